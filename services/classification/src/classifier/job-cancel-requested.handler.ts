import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, type JobCancelRequestedV1 } from '@troupe/contracts';
import { markJobCancelled, OBSERVES_JOBS, type MessageContext } from '@troupe/messaging';

/** A cancelled job is not classified any more: its job.requested, if still to come, is dropped. */
@Controller()
export class JobCancelRequestedHandler {
  @EventPattern(TOPICS.jobCancelRequested, { [OBSERVES_JOBS]: true })
  handle(@Payload() request: JobCancelRequestedV1, @Ctx() ctx: MessageContext): void {
    markJobCancelled(ctx, request.jobId);
  }
}
