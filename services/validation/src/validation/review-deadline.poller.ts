import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { context } from '@opentelemetry/api';
import { JOB_REJECTED_V1, JOB_REVIEW_EXPIRED_V1, type OutgoingEvent } from '@troupe/contracts';
import { PollingLoop, toOutboxRecord, type OutboxRecord } from '@troupe/messaging';
import { LOGGER, SERVICE_CONFIG } from '@troupe/runtime';
import { contextFromHeaders } from '@troupe/telemetry';
import type { Logger } from 'pino';
import type { ValidationConfig } from '../validation.config';
import type { ReviewState } from './review.entity';
import { ReviewsRepository, type OpenReview } from './reviews.repository';
import { ValidationService } from './validation.service';

const BATCH = 100;

/**
 * Applies the workflow's deadline rule to reviews nobody decided in time. The deadline is a row in
 * Postgres, polled: it survives restarts and replicas share it (as webhook retries do, ADR 0005).
 */
@Injectable()
export class ReviewDeadlinePoller implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly loop: PollingLoop;

  constructor(
    private readonly reviews: ReviewsRepository,
    private readonly validation: ValidationService,
    @Inject(SERVICE_CONFIG) private readonly config: ValidationConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.loop = new PollingLoop({
      pass: async () => (await this.expireOnce()) >= BATCH,
      idleMs: this.config.TROUPE_REVIEW_POLL_MS,
      onError: (err, failures) => this.logger.error({ err, failures }, 'review deadline pass failed; retrying'),
    });
  }

  onApplicationBootstrap() {
    this.loop.start();
  }

  async beforeApplicationShutdown() {
    await this.loop.stop();
  }

  /** One pass: returns how many reviews were resolved. */
  async expireOnce(): Promise<number> {
    return this.reviews.expireDue(BATCH, (due) => {
      const updates: { id: string; status: ReviewState; reasons?: { code: string; message: string }[]; review: OpenReview }[] = [];
      const events: OutboxRecord[] = [];
      for (const review of due) {
        const outcome = this.validation.expire(review);
        updates.push({ id: review.id, status: outcome.status, reasons: outcome.reasons, review });
        const { repair: _repair, ...job } = review.job;
        const emitted: OutgoingEvent[] = [
          {
            type: JOB_REVIEW_EXPIRED_V1,
            data: {
              jobId: review.jobId,
              tenantId: review.tenantId,
              reviewId: review.id,
              action: outcome.action,
              dueAt: review.dueAt.toISOString(),
            },
          },
        ];
        if (outcome.reasons) emitted.push({ type: JOB_REJECTED_V1, data: { ...job, reasons: outcome.reasons } });
        // The job's trace continues from where the review was held.
        context.with(contextFromHeaders(review.traceHeaders), () => {
          for (const event of emitted) events.push(toOutboxRecord(event, { service: 'validation', correlationId: review.jobId }));
        });
      }
      if (due.length > 0) this.logger.info({ reviews: due.map((r) => r.id) }, 'review deadlines passed');
      return { updates, events };
    });
  }
}
