import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JOB_TOPICS, TOPICS, isEventType } from '@troupe/contracts';
import { OBSERVES_JOBS, type MessageContext } from '@troupe/messaging';
import { ReviewsService } from '../reviews/reviews.service';
import { JobsService } from './jobs.service';

/** Intake's read model follows every job event (its own job.requested is recorded when written). */
const READ_MODEL_TOPICS = JOB_TOPICS.filter((t) => t !== TOPICS.jobRequested);

@Controller()
export class JobEventsHandler {
  constructor(
    private readonly jobs: JobsService,
    private readonly reviews: ReviewsService,
  ) {}

  @EventPattern(READ_MODEL_TOPICS, { [OBSERVES_JOBS]: true })
  onJobEvent(@Payload() data: { jobId: string }, @Ctx() ctx: MessageContext): void {
    if (!isEventType(ctx.envelope.type)) return;
    this.jobs.recordEvent(ctx.envelope.type, data, ctx);
    // The review queue is a read model of the same events (one transport handler per topic).
    this.reviews.recordEvent(ctx.envelope.type, data, ctx);
  }
}
