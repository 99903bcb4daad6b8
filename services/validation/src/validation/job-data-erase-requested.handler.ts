import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, type JobDataEraseRequestedV1 } from '@troupe/contracts';
import { eraseJobData, OBSERVES_JOBS, type MessageContext } from '@troupe/messaging';

/** A job's payloads erased: the job (its output) its review held; the verdict, reasons and decision remain. */
const ERASE: readonly string[] = [
  `UPDATE reviews SET job = '{"erased":true}'::jsonb WHERE job_id = $1`,
];

@Controller()
export class JobDataEraseRequestedHandler {
  @EventPattern(TOPICS.jobDataEraseRequested, { [OBSERVES_JOBS]: true })
  handle(@Payload() request: JobDataEraseRequestedV1, @Ctx() ctx: MessageContext): Promise<void> {
    return eraseJobData(ctx, request.jobId, ERASE);
  }
}
