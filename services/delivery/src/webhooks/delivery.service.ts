import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { context } from '@opentelemetry/api';
import {
  envelopeToHeaders,
  eventTime,
  JOB_CANCELLED_V1,
  JOB_DELIVERED_V1,
  JOB_DELIVERY_ATTEMPTED_V1,
  JOB_DELIVERY_FAILED_V1,
  JOB_RESULT_V1,
  JobResultV1Schema,
  TOPICS,
  type BudgetThresholdCrossedV1,
  type JobCancelRequestedV1,
  type JobFailedV1,
  type JobRedeliveryRequestedV1,
  type JobRejectedV1,
  type JobRequestedV1,
  type JobValidatedV1,
} from '@troupe/contracts';
import {
  backoffDelay,
  deadLetterRecord,
  toOutboxRecord,
  TransientError,
  type MessageContext,
  type OutboxRecord,
} from '@troupe/messaging';
import { SERVICE_CONFIG } from '@troupe/runtime';
import { contextFromHeaders, traceHeaders } from '@troupe/telemetry';
import type { DeliveryConfig } from '../delivery.config';
import {
  DeliveriesRepository,
  type AttemptRecord,
  type ClaimedDelivery,
  type DeliveryOutcome,
  type JobTarget,
} from './deliveries.repository';
import { ResultTopics } from './result-topics';
import { webhookAttempts, webhookAttemptSeconds } from './webhook-metrics';
import type { SendResult } from './webhook-sender';

export interface WebhookPayload {
  type: 'job.completed' | 'job.rejected' | 'job.failed' | 'job.cancelled';
  timestamp: string;
  data: Record<string, unknown> & { jobId: string };
}

/** The body receivers get: Standard Webhooks' recommended `{ type, timestamp, data }`. */
export function webhookPayload(job: JobValidatedV1 | JobRejectedV1, outcome: 'validated' | 'rejected'): WebhookPayload {
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

/** A failed job's notification: which stage gave up, and why. */
export function failurePayload(target: JobTarget, failed: JobFailedV1): WebhookPayload {
  return {
    type: 'job.failed',
    timestamp: new Date().toISOString(),
    data: {
      jobId: failed.jobId,
      workflow: target.workflow,
      status: 'failed',
      error: { stage: failed.stage, code: failed.code, message: failed.reason },
      metadata: target.metadata,
    },
  };
}

/** A cancelled job's notification: who asked, when and why. */
export function cancelledPayload(target: JobTarget, request: JobCancelRequestedV1): WebhookPayload {
  return {
    type: 'job.cancelled',
    timestamp: new Date().toISOString(),
    data: {
      jobId: request.jobId,
      workflow: target.workflow,
      status: 'cancelled',
      cancellation: { requestedBy: request.requestedBy, requestedAt: request.requestedAt, reason: request.reason },
      metadata: target.metadata,
    },
  };
}

/** A target from the job.failed event itself, when its emitter copied the job's webhook into it. */
function targetOfFailure(failed: JobFailedV1): JobTarget | undefined {
  if (!failed.webhook || !failed.workflow) return undefined;
  return {
    jobId: failed.jobId,
    tenantId: failed.tenantId,
    webhookUrl: failed.webhook.url,
    resultTopic: null,
    workflow: failed.workflow,
    metadata: failed.metadata ?? {},
  };
}

/**
 * The job's request itself could not be read (its job.requested is dead-lettered here too, so it
 * will never be seen): nothing says where a notification would go, so the job ends, readable by
 * polling. Without this, delivery would wait for a request that never comes and dead-letter the failure.
 */
function unreadableRequestTarget(failed: JobFailedV1): JobTarget | undefined {
  if (failed.failedTopic !== TOPICS.jobRequested) return undefined;
  return {
    jobId: failed.jobId,
    tenantId: failed.tenantId,
    webhookUrl: failed.webhook?.url ?? null,
    resultTopic: null,
    workflow: failed.workflow ?? { id: 'unknown', version: 0 },
    metadata: failed.metadata ?? {},
  };
}

/** Where a job's outcome goes: its webhook and its workflow's result topic; a shadow job's goes nowhere. */
function targetOf(job: Pick<JobRequestedV1, 'webhook' | 'workflow' | 'shadow'>): { webhookUrl: string | null; resultTopic: string | null } {
  if (job.shadow) return { webhookUrl: null, resultTopic: null };
  return { webhookUrl: job.webhook?.url ?? null, resultTopic: job.workflow.delivery.topic ?? null };
}

/** Stable per job and target, so a receiver deduplicates retries by `webhook-id`. */
export const deliveryId = (jobId: string, url: string) =>
  'msg_' + createHash('sha256').update(`${jobId}\n${url}`).digest('hex').slice(0, 32);

const OUTCOME_OF_TYPE = {
  'job.completed': 'validated',
  'job.rejected': 'rejected',
  'job.failed': 'failed',
  'job.cancelled': 'cancelled',
} as const;

@Injectable()
export class DeliveryService {
  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly resultTopics: ResultTopics,
    @Inject(SERVICE_CONFIG) private readonly config: DeliveryConfig,
  ) {}

  /** Remembers where the job's outcome goes: job.failed does not say, and any stage may emit it. */
  onRequested(job: JobRequestedV1, ctx: MessageContext): void {
    this.deliveries.rememberTarget(ctx, {
      jobId: job.jobId,
      tenantId: job.tenantId,
      ...targetOf(job),
      workflow: { id: job.workflow.id, version: job.workflow.version },
      metadata: job.metadata,
    });
  }

  /** A job has an outcome: publish it to the result topic, schedule its webhook, or mark it ready to be read. */
  async onOutcome(job: JobValidatedV1 | JobRejectedV1, outcome: 'validated' | 'rejected', ctx: MessageContext): Promise<void> {
    if (!(await this.deliveries.claimOutcome(ctx, job.jobId, outcome))) return; // cancelled first: nothing of it is delivered
    await this.deliver(
      { jobId: job.jobId, tenantId: job.tenantId, ...targetOf(job) },
      webhookPayload(job, outcome),
      ctx,
      true,
    );
  }

  /** A job failed in some stage: its target gets a `job.failed` notification. */
  async onFailed(failed: JobFailedV1, ctx: MessageContext): Promise<void> {
    // What job.requested told us (it knows the result topic too), else what the failure carries.
    const target = (await this.deliveries.findTarget(ctx, failed.jobId)) ?? targetOfFailure(failed) ?? unreadableRequestTarget(failed);
    // Topics are consumed independently: the job.requested may still be on its way. Retried, then dead-lettered.
    if (!target) throw new TransientError(`job ${failed.jobId}: its job.requested has not been seen yet`);
    if (!(await this.deliveries.claimOutcome(ctx, failed.jobId, 'failed'))) return;
    await this.deliver(target, failurePayload(target, failed), ctx, false);
  }

  /**
   * A cancel request: when no outcome of the job has reached delivery yet, the job is cancelled
   * (`job.cancelled`, and a `job.cancelled` notification to its target); any outcome arriving
   * later is dropped. When an outcome came first, it stands and the request changes nothing.
   */
  async onCancelRequested(request: JobCancelRequestedV1, ctx: MessageContext): Promise<void> {
    if (!(await this.deliveries.claimCancel(ctx, request.jobId))) return;
    const { jobId, tenantId, requestedBy, requestedAt, reason } = request;
    ctx.emit({ type: JOB_CANCELLED_V1, data: { jobId, tenantId, requestedBy, requestedAt, reason, cancelledAt: new Date().toISOString() } });
    const target = (await this.deliveries.findTarget(ctx, jobId)) ?? {
      jobId,
      tenantId,
      webhookUrl: request.webhook?.url ?? null,
      resultTopic: null,
      workflow: request.workflow,
      metadata: request.metadata,
    };
    await this.deliver(target, cancelledPayload(target, request), ctx, false);
  }

  /**
   * A budget crossed a soft threshold: a signed webhook to the tenant's alert target, on the same
   * durable schedule as job webhooks. Its id is the crossing's (budget, period, threshold), so the
   * event redelivered schedules nothing new: one webhook per threshold per period.
   */
  onBudgetThresholdCrossed(alert: BudgetThresholdCrossedV1, ctx: MessageContext): void {
    if (!alert.alertWebhook) return;
    const { alertWebhook, ...data } = alert;
    this.deliveries.schedule(ctx, {
      id: `budget:${alert.budget.id}:${alert.periodStart}:${alert.threshold}`,
      kind: 'budget-alert',
      jobId: alert.jobId,
      tenantId: alert.tenantId,
      url: alertWebhook.url,
      outcome: 'validated', // unused for alerts: the column is the job's outcome
      payload: { type: 'budget.threshold-crossed', timestamp: alert.crossedAt, data },
      traceHeaders: traceHeaders(),
    });
  }

  /** Re-sends a job's finished deliveries with their stored payload and webhook-id. */
  async onRedeliveryRequested(request: JobRedeliveryRequestedV1, ctx: MessageContext): Promise<number> {
    return this.deliveries.requeue(ctx, request.jobId, request.tenantId);
  }

  private async deliver(
    target: Pick<JobTarget, 'jobId' | 'tenantId' | 'webhookUrl' | 'resultTopic'>,
    payload: WebhookPayload,
    ctx: MessageContext,
    announcePoll: boolean,
  ): Promise<void> {
    const outcome: DeliveryOutcome = OUTCOME_OF_TYPE[payload.type];
    const base = { jobId: target.jobId, tenantId: target.tenantId };
    if (target.resultTopic) {
      await this.resultTopics.ensure(target.resultTopic);
      ctx.emitted.push(resultTopicRecord(target.resultTopic, base, payload, ctx));
      ctx.emit({
        type: JOB_DELIVERED_V1,
        data: { ...base, channel: 'topic', topic: target.resultTopic, outcome, attempts: 1, webhookPending: !!target.webhookUrl },
      });
    }
    if (!target.webhookUrl) {
      if (announcePoll && !target.resultTopic) {
        ctx.emit({ type: JOB_DELIVERED_V1, data: { ...base, channel: 'poll', outcome, attempts: 0 } });
      }
      return;
    }
    this.deliveries.schedule(ctx, {
      id: deliveryId(target.jobId, target.webhookUrl),
      ...base,
      url: target.webhookUrl,
      outcome,
      payload,
      traceHeaders: traceHeaders(), // the dispatcher continues this trace when it sends
    });
  }

  /** Decides what each attempt means (done, retry when, or give up) and records it with its events. */
  async recordResults(sent: { delivery: ClaimedDelivery; result: SendResult }[]): Promise<void> {
    const attempts: AttemptRecord[] = [];
    const events: OutboxRecord[] = [];
    for (const { delivery: d, result } of sent) {
      const decision = this.decide(d, result);
      const attempt: AttemptRecord = {
        deliveryId: d.id,
        attempt: d.attempt,
        statusCode: result.statusCode,
        error: result.error,
        code: decision.code,
        latencyMs: result.latencyMs,
        status: decision.status,
        nextAttemptAt: decision.nextAttemptAt,
        sent: decision.sent,
        disable: result.disableTarget
          ? { tenantId: d.tenantId, url: d.url, reason: `HTTP 410 Gone for job ${d.jobId} at ${new Date().toISOString()}` }
          : undefined,
      };
      attempts.push(attempt);
      // A budget alert is not part of the job's story: its attempts and state are recorded (and
      // counted in troupe_webhook_attempts_total), no job event is emitted.
      if (d.kind === 'budget-alert') continue;
      const base = { jobId: d.jobId, tenantId: d.tenantId };
      const origin = { service: 'delivery', correlationId: d.jobId };
      const attemptsMade = decision.sent ? d.attempt : d.attempt - 1;
      // Emitted in the trace of the job, not of the dispatcher loop.
      context.with(contextFromHeaders(d.traceHeaders), () => {
        if (decision.sent) {
          events.push(
            toOutboxRecord(
              {
                type: JOB_DELIVERY_ATTEMPTED_V1,
                data: {
                  ...base,
                  deliveryId: d.id,
                  url: d.url,
                  attempt: d.attempt,
                  outcome: decision.status === 'delivered' ? 'succeeded' : decision.status === 'pending' ? 'retrying' : 'failed',
                  statusCode: result.statusCode,
                  error: result.error,
                  latencyMs: result.latencyMs,
                  nextAttemptAt: decision.nextAttemptAt?.toISOString(),
                },
              },
              origin,
            ),
          );
        }
        if (decision.status === 'delivered') {
          events.push(
            toOutboxRecord(
              {
                type: JOB_DELIVERED_V1,
                data: { ...base, channel: 'webhook', outcome: d.outcome, deliveryId: d.id, url: d.url, attempts: d.attempt },
              },
              origin,
            ),
          );
        } else if (decision.status === 'failed') {
          const reason = decision.reason ?? `${result.error}`;
          events.push(
            toOutboxRecord(
              {
                type: JOB_DELIVERY_FAILED_V1,
                data: {
                  ...base,
                  deliveryId: d.id,
                  url: d.url,
                  outcome: d.outcome,
                  attempts: attemptsMade,
                  reason,
                  code: decision.code,
                  targetDisabled: result.disableTarget || undefined,
                },
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
              { code: decision.code ?? 'WEBHOOK_FAILED', reason, attempts: attemptsMade },
            ),
          );
        }
      });
    }
    await this.deliveries.recordAttempts(attempts, events);
    // Counted once committed: a batch that failed to record is tried again and counted then.
    for (const a of attempts) {
      if (!a.sent) continue;
      const outcome = a.status === 'pending' ? 'retrying' : a.status;
      webhookAttempts.inc({ outcome, code: a.code ?? 'none' });
      webhookAttemptSeconds.observe({ outcome }, a.latencyMs / 1000);
    }
  }

  private decide(
    d: ClaimedDelivery,
    result: SendResult,
  ): { status: AttemptRecord['status']; sent: boolean; code?: string; reason?: string; nextAttemptAt?: Date } {
    if (d.targetDisabledReason) {
      return {
        status: 'failed',
        sent: false,
        code: 'TARGET_DISABLED',
        reason: `not attempted: the target is disabled (${d.targetDisabledReason}); redeliver to re-enable it`,
      };
    }
    const code = result.code ?? (result.statusCode ? `HTTP_${result.statusCode}` : 'WEBHOOK_UNREACHABLE');
    if (result.ok) return { status: 'delivered', sent: true };
    if (!result.retryable) {
      const reason = result.disableTarget ? `${result.error}: the target is gone and is disabled for later jobs` : result.error;
      return { status: 'failed', sent: true, code, reason };
    }
    const roundAttempt = d.attempt - d.roundBase;
    if (roundAttempt >= this.config.TROUPE_WEBHOOK_MAX_ATTEMPTS) {
      return { status: 'failed', sent: true, code, reason: `gave up after ${d.attempt} attempts: ${result.error}` };
    }
    const delayMs =
      result.retryAfterMs ??
      backoffDelay(roundAttempt, this.config.TROUPE_WEBHOOK_RETRY_BASE_MS, this.config.TROUPE_WEBHOOK_RETRY_MAX_MS);
    const nextAttemptAt = new Date(Date.now() + delayMs);
    const horizon = d.roundStartedAt.getTime() + this.config.TROUPE_WEBHOOK_RETRY_HORIZON_MS;
    if (nextAttemptAt.getTime() > horizon) {
      const why = result.retryAfterMs !== undefined ? `Retry-After asks for ${Math.ceil(delayMs / 1000)} s` : 'the next attempt';
      return {
        status: 'failed',
        sent: true,
        code,
        reason: `gave up after ${d.attempt} attempts: ${result.error}; ${why} would fall beyond the ${Math.round(this.config.TROUPE_WEBHOOK_RETRY_HORIZON_MS / 1000)} s retry horizon`,
      };
    }
    return { status: 'pending', sent: true, code, nextAttemptAt };
  }
}

/** A result-topic message: the webhook body as event data, with the same CloudEvents envelope as every event. */
function resultTopicRecord(
  topic: string,
  base: { jobId: string; tenantId: string },
  payload: WebhookPayload,
  ctx: MessageContext,
): OutboxRecord {
  const data = JobResultV1Schema.parse({ ...base, type: payload.type, timestamp: payload.timestamp, data: payload.data });
  const id = randomUUID();
  return {
    id,
    topic,
    key: base.jobId,
    headers: {
      ...envelopeToHeaders({
        id,
        source: 'troupe/delivery',
        type: JOB_RESULT_V1,
        specversion: '1.0',
        time: eventTime(),
        subject: base.jobId,
        tenantid: base.tenantId,
        correlationid: ctx.envelope.correlationid,
        causationid: ctx.envelope.id,
      }),
      ...traceHeaders(),
    },
    value: Buffer.from(JSON.stringify(data)),
  };
}
