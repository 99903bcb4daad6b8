import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  JOB_REGENERATE_REQUESTED_V1,
  JOB_REJECTED_V1,
  JOB_REVIEW_REQUESTED_V1,
  JOB_VALIDATED_V1,
  TOPICS,
  type JobGeneratedV1,
} from '@troupe/contracts';
import type { MessageContext } from '@troupe/messaging';
import { traceHeaders } from '@troupe/telemetry';
import { ReviewsRepository } from './reviews.repository';
import { countVerdict } from './validation.metrics';
import { ValidationService } from './validation.service';
import { ValidationsRepository } from './validations.repository';

@Controller()
export class JobGeneratedHandler {
  constructor(
    private readonly validation: ValidationService,
    private readonly validations: ValidationsRepository,
    private readonly reviews: ReviewsRepository,
  ) {}

  @EventPattern(TOPICS.jobGenerated)
  async handle(@Payload() job: JobGeneratedV1, @Ctx() ctx: MessageContext): Promise<void> {
    const verdict = this.validation.evaluate(job);
    const { repair: _repair, ...context } = job;
    const record = { ...job, workflowId: job.workflow.id };
    countVerdict(job, verdict);
    switch (verdict.kind) {
      case 'validated':
        this.validations.record(ctx, record, []);
        ctx.emit({ type: JOB_VALIDATED_V1, data: { ...context, output: verdict.output } });
        return;
      case 'rejected':
        this.validations.record(ctx, record, verdict.reasons);
        ctx.emit({ type: JOB_REJECTED_V1, data: { ...context, reasons: verdict.reasons } });
        return;
      case 'regenerate':
        ctx.emit({ type: JOB_REGENERATE_REQUESTED_V1, data: { ...context, repair: verdict.repair } });
        return;
      case 'review': {
        const { review } = verdict;
        if (job.shadow) {
          // A shadow job is never put before a reviewer: it passes, with what would have held it.
          this.validations.record(ctx, record, []);
          ctx.emit({
            type: JOB_VALIDATED_V1,
            data: { ...context, output: job.generation.output, wouldReview: { heldBecause: review.heldBecause, findings: review.findings } },
          });
          return;
        }
        // The deadline poller continues this trace when the review times out.
        this.reviews.hold(ctx, { id: review.reviewId, job, dueAt: review.dueAt, onDeadline: review.onDeadline, traceHeaders: traceHeaders() });
        ctx.emit({
          type: JOB_REVIEW_REQUESTED_V1,
          data: {
            ...context,
            reviewId: review.reviewId,
            output: job.generation.output,
            heldBecause: review.heldBecause,
            findings: review.findings,
            dueAt: review.dueAt.toISOString(),
            onDeadline: review.onDeadline,
          },
        });
        return;
      }
    }
  }
}
