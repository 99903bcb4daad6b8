import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, type JobDataEraseRequestedV1 } from '@troupe/contracts';
import { eraseJobData, OBSERVES_JOBS, type MessageContext } from '@troupe/messaging';

/** A job's payloads erased: classification stores none (label, language, sentiment, model remain), only the events it published. */
const ERASE: readonly string[] = [];

@Controller()
export class JobDataEraseRequestedHandler {
  @EventPattern(TOPICS.jobDataEraseRequested, { [OBSERVES_JOBS]: true })
  handle(@Payload() request: JobDataEraseRequestedV1, @Ctx() ctx: MessageContext): Promise<void> {
    return eraseJobData(ctx, request.jobId, ERASE);
  }
}
