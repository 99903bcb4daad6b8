import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JOB_REJECTED_V1, JOB_VALIDATED_V1, TOPICS, type ReviewDecidedV1 } from '@troupe/contracts';
import type { MessageContext } from '@troupe/messaging';
import { LOGGER } from '@troupe/runtime';
import type { Logger } from 'pino';
import { ReviewsRepository } from './reviews.repository';
import { ValidationService } from './validation.service';
import { ValidationsRepository } from './validations.repository';

/** A reviewer's decision (made through intake) completes the held job. */
@Controller()
export class ReviewDecidedHandler {
  constructor(
    private readonly validation: ValidationService,
    private readonly reviews: ReviewsRepository,
    private readonly validations: ValidationsRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @EventPattern(TOPICS.reviewDecided)
  async handle(@Payload() decided: ReviewDecidedV1, @Ctx() ctx: MessageContext): Promise<void> {
    const review = await this.reviews.lock(ctx.manager, decided.reviewId);
    if (!review || review.tenantId !== decided.tenantId || review.jobId !== decided.jobId) {
      this.logger.warn({ reviewId: decided.reviewId, jobId: decided.jobId }, 'decision for an unknown review; ignored');
      return;
    }
    if (review.status !== 'pending' && review.status !== 'escalated') {
      // The deadline (or an earlier decision) resolved it first; the job already has its outcome.
      this.logger.warn({ reviewId: review.id, status: review.status }, 'decision for a resolved review; ignored');
      return;
    }
    const outcome = this.validation.decide(review.job, decided);
    const { repair: _repair, ...job } = review.job;
    await this.reviews.resolve(ctx.manager, review.id, outcome.status, decided.reviewer.keyId);
    this.validations.record(ctx, { ...job, workflowId: job.workflow.id }, outcome.reasons ?? []);
    if (outcome.reasons) ctx.emit({ type: JOB_REJECTED_V1, data: { ...job, reasons: outcome.reasons } });
    else ctx.emit({ type: JOB_VALIDATED_V1, data: { ...job, output: outcome.output } });
  }
}
