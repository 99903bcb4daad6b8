import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, type JobCancelRequestedV1 } from '@troupe/contracts';
import { markJobCancelled, OBSERVES_JOBS, type MessageContext } from '@troupe/messaging';
import { ReviewsRepository } from './reviews.repository';

/**
 * A cancelled job is not validated any more, and a review it waits in is closed: a later decision
 * or deadline for it changes nothing (delivery ends the job as cancelled).
 */
@Controller()
export class JobCancelRequestedHandler {
  constructor(private readonly reviews: ReviewsRepository) {}

  @EventPattern(TOPICS.jobCancelRequested, { [OBSERVES_JOBS]: true })
  async handle(@Payload() request: JobCancelRequestedV1, @Ctx() ctx: MessageContext): Promise<void> {
    markJobCancelled(ctx, request.jobId);
    // The review may be held by this very chunk: write it first.
    await ctx.deferred('reviews', () => this.reviews.holdBatch()).flush(ctx.manager);
    await this.reviews.cancel(ctx.manager, request.jobId);
  }
}
