import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { context } from '@opentelemetry/api';
import {
  JOB_DELIVERED_V1,
  JOB_DELIVERY_ATTEMPTED_V1,
  JOB_DELIVERY_FAILED_V1,
  type JobRejectedV1,
  type JobValidatedV1,
} from '@troupe/contracts';
import { backoffDelay, deadLetterRecord, toOutboxRecord, type MessageContext, type OutboxRecord } from '@troupe/messaging';
import { SERVICE_CONFIG } from '@troupe/runtime';
import { contextFromHeaders, traceHeaders } from '@troupe/telemetry';
import type { DeliveryConfig } from '../delivery.config';
import { DeliveriesRepository, type AttemptRecord, type ClaimedDelivery } from './deliveries.repository';
import type { SendResult } from './webhook-sender';

/** The body receivers get: Standard Webhooks' recommended `{ type, timestamp, data }`. */
export function webhookPayload(job: JobValidatedV1 | JobRejectedV1, outcome: 'validated' | 'rejected') {
  return {
    type: outcome === 'validated' ? 'job.completed' : 'job.rejected',
    timestamp: new Date().toISOString(),
    data: {
      jobId: job.jobId,
      workflow: { id: job.workflow.id, version: job.workflow.version },
      status: outcome,
      ...(outcome === 'validated' ? { output: (job as JobValidatedV1).output } : { reasons: (job as JobRejectedV1).reasons }),
      classification: {
        label: job.classification.label,
        confidence: job.classification.confidence,
        language: job.classification.language,
      },
      model: job.generation.model,
      costUsd: job.generation.costUsd,
      metadata: job.metadata,
    },
  };
}

/** Stable per job and target, so a receiver deduplicates retries by `webhook-id`. */
export const deliveryId = (jobId: string, url: string) =>
  'msg_' + createHash('sha256').update(`${jobId}\n${url}`).digest('hex').slice(0, 32);

@Injectable()
export class DeliveryService {
  constructor(
    private readonly deliveries: DeliveriesRepository,
    @Inject(SERVICE_CONFIG) private readonly config: DeliveryConfig,
  ) {}

  /** A job has an outcome: schedule its webhook, or, with no target, mark it ready to be read. */
  onOutcome(job: JobValidatedV1 | JobRejectedV1, outcome: 'validated' | 'rejected', ctx: MessageContext): void {
    if (!job.webhook) {
      ctx.emit({
        type: JOB_DELIVERED_V1,
        data: { jobId: job.jobId, tenantId: job.tenantId, channel: 'poll', outcome, attempts: 0 },
      });
      return;
    }
    this.deliveries.schedule(ctx, {
      id: deliveryId(job.jobId, job.webhook.url),
      jobId: job.jobId,
      tenantId: job.tenantId,
      url: job.webhook.url,
      outcome,
      payload: webhookPayload(job, outcome),
      traceHeaders: traceHeaders(), // the dispatcher continues this trace when it sends
    });
  }

  /** Decides what each attempt means (done, retry when, or give up) and records it with its events. */
  async recordResults(sent: { delivery: ClaimedDelivery; result: SendResult }[]): Promise<void> {
    const attempts: AttemptRecord[] = [];
    const events: OutboxRecord[] = [];
    for (const { delivery: d, result } of sent) {
      const exhausted = d.attempt >= this.config.TROUPE_WEBHOOK_MAX_ATTEMPTS;
      const status = result.ok ? 'delivered' : result.retryable && !exhausted ? 'pending' : 'failed';
      const delayMs =
        status === 'pending'
          ? Math.min(
              this.config.TROUPE_WEBHOOK_RETRY_MAX_MS,
              result.retryAfterMs ??
                backoffDelay(d.attempt, this.config.TROUPE_WEBHOOK_RETRY_BASE_MS, this.config.TROUPE_WEBHOOK_RETRY_MAX_MS),
            )
          : undefined;
      const nextAttemptAt = delayMs === undefined ? undefined : new Date(Date.now() + delayMs);
      attempts.push({
        deliveryId: d.id,
        attempt: d.attempt,
        statusCode: result.statusCode,
        error: result.error,
        latencyMs: result.latencyMs,
        status,
        nextAttemptAt,
      });
      const base = { jobId: d.jobId, tenantId: d.tenantId };
      const origin = { service: 'delivery', correlationId: d.jobId };
      // Emitted in the trace of the job, not of the dispatcher loop.
      context.with(contextFromHeaders(d.traceHeaders), () => {
        events.push(
          toOutboxRecord(
            {
              type: JOB_DELIVERY_ATTEMPTED_V1,
              data: {
                ...base,
                deliveryId: d.id,
                url: d.url,
                attempt: d.attempt,
                outcome: status === 'delivered' ? 'succeeded' : status === 'pending' ? 'retrying' : 'failed',
                statusCode: result.statusCode,
                error: result.error,
                latencyMs: result.latencyMs,
                nextAttemptAt: nextAttemptAt?.toISOString(),
              },
            },
            origin,
          ),
        );
        if (status === 'delivered') {
          events.push(
            toOutboxRecord(
              {
                type: JOB_DELIVERED_V1,
                data: { ...base, channel: 'webhook', outcome: d.outcome, deliveryId: d.id, url: d.url, attempts: d.attempt },
              },
              origin,
            ),
          );
        } else if (status === 'failed') {
          const reason = exhausted && result.retryable ? `gave up after ${d.attempt} attempts: ${result.error}` : `${result.error}`;
          events.push(
            toOutboxRecord(
              {
                type: JOB_DELIVERY_FAILED_V1,
                data: { ...base, deliveryId: d.id, url: d.url, outcome: d.outcome, attempts: d.attempt, reason },
              },
              origin,
            ),
            // The undelivered payload goes to the stage's dead-letter topic, for inspection and replay.
            deadLetterRecord(
              'delivery',
              'troupe-delivery-webhooks',
              {
                topic: 'webhook',
                partition: -1,
                offset: String(d.attempt),
                key: d.jobId,
                value: Buffer.from(JSON.stringify(d.payload)),
                headers: { ce_subject: d.jobId, ce_tenantid: d.tenantId, 'webhook-id': d.id, ...traceHeaders() },
              },
              { code: result.statusCode ? `HTTP_${result.statusCode}` : 'WEBHOOK_UNREACHABLE', reason, attempts: d.attempt },
            ),
          );
        }
      });
    }
    await this.deliveries.recordAttempts(attempts, events);
  }
}
