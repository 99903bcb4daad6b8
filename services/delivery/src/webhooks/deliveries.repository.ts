import { Injectable } from '@nestjs/common';
import { appendToOutbox, BatchInsert, type MessageContext, type OutboxRecord } from '@troupe/messaging';
import { afterCommit } from '@troupe/persistence';
import { DataSource, type EntityManager } from 'typeorm';

export type DeliveryOutcome = 'validated' | 'rejected' | 'failed' | 'cancelled';
/** A job's outcome, or a budget alert (no job events, never requeued by a job's redelivery). */
export type DeliveryKind = 'job' | 'budget-alert';

export interface ScheduledDelivery {
  id: string;
  jobId: string;
  tenantId: string;
  url: string;
  outcome: DeliveryOutcome;
  payload: unknown;
  traceHeaders: Record<string, string>;
  /** 'job' when absent. */
  kind?: DeliveryKind;
}

export interface ClaimedDelivery extends ScheduledDelivery {
  /** This attempt's number, counting from 1 over the delivery's whole life. */
  attempt: number;
  /** Attempts made before this round (0 unless redelivered). */
  roundBase: number;
  roundStartedAt: Date;
  /** Set when the target answered 410 Gone to an earlier delivery: nothing is sent. */
  targetDisabledReason?: string;
}

export interface AttemptRecord {
  deliveryId: string;
  attempt: number;
  statusCode?: number;
  error?: string;
  code?: string;
  latencyMs: number;
  /** The delivery's state after this attempt. */
  status: 'pending' | 'delivered' | 'failed';
  nextAttemptAt?: Date;
  /** false when nothing was sent (disabled target): no attempt row, only the state change. */
  sent: boolean;
  /** The target answered 410: disable it for the tenant. */
  disable?: { tenantId: string; url: string; reason: string };
}

/** Where a job's outcome goes (from its job.requested). */
export interface JobTarget {
  jobId: string;
  tenantId: string;
  webhookUrl: string | null;
  resultTopic: string | null;
  workflow: { id: string; version: number };
  metadata: Record<string, string>;
}

interface ClaimedRow {
  id: string;
  job_id: string;
  tenant_id: string;
  url: string;
  outcome: DeliveryOutcome;
  payload: unknown;
  trace_headers: Record<string, string>;
  attempts: number;
  round_base: number;
  round_started_at: Date;
  disabled_reason: string | null;
  kind: DeliveryKind;
}

@Injectable()
export class DeliveriesRepository {
  private readonly scheduledListeners = new Set<() => void>();
  private readonly wakeRegistered = new WeakSet<EntityManager>();

  constructor(private readonly dataSource: DataSource) {}

  /** Calls `listener` after each commit in this process that made deliveries due (the dispatcher wakes). */
  whenScheduled(listener: () => void): () => void {
    this.scheduledListeners.add(listener);
    return () => this.scheduledListeners.delete(listener);
  }

  /** Once per transaction: its commit makes the new deliveries visible to the dispatcher. */
  private wakeAfterCommit(manager: EntityManager): void {
    if (this.wakeRegistered.has(manager)) return;
    this.wakeRegistered.add(manager);
    afterCommit(manager, () => this.scheduledListeners.forEach((listener) => listener()));
  }

  /**
   * Schedules a delivery in the handler's chunk transaction (one statement for the chunk); a
   * redelivered event schedules nothing new.
   */
  schedule(ctx: MessageContext, d: ScheduledDelivery): void {
    ctx
      .deferred(
        'deliveries',
        () =>
          new BatchInsert(
            'deliveries',
            ['id', 'job_id', 'tenant_id', 'url', 'outcome', 'payload', 'trace_headers', 'kind'],
            'ON CONFLICT (id) DO NOTHING',
          ),
      )
      .add([d.id, d.jobId, d.tenantId, d.url, d.outcome, JSON.stringify(d.payload), JSON.stringify(d.traceHeaders), d.kind ?? 'job']);
    this.wakeAfterCommit(ctx.manager);
  }

  /**
   * Claims the job's end for an outcome, in the handler's transaction: false when the job was
   * cancelled first (its outcome is then dropped). A concurrent cancel waits for this transaction.
   */
  async claimOutcome(ctx: MessageContext, jobId: string, outcome: Exclude<DeliveryOutcome, 'cancelled'>): Promise<boolean> {
    const rows: { outcome: DeliveryOutcome }[] = await ctx.manager.query(
      `INSERT INTO job_outcomes (job_id, outcome) VALUES ($1, $2)
       ON CONFLICT (job_id) DO UPDATE SET job_id = EXCLUDED.job_id RETURNING outcome`,
      [jobId, outcome],
    );
    return rows[0]?.outcome !== 'cancelled';
  }

  /** Claims the job's end for its cancellation: false when an outcome came first (it is delivered instead). */
  async claimCancel(ctx: MessageContext, jobId: string): Promise<boolean> {
    const rows: { job_id: string }[] = await ctx.manager.query(
      `INSERT INTO job_outcomes (job_id, outcome) VALUES ($1, 'cancelled') ON CONFLICT (job_id) DO NOTHING RETURNING job_id`,
      [jobId],
    );
    return rows.length === 1;
  }

  /** Remembers where a job's outcome goes, in the chunk transaction. */
  rememberTarget(ctx: MessageContext, t: JobTarget): void {
    this.targetsWrite(ctx).add([t.jobId, t.tenantId, t.webhookUrl, t.resultTopic, t.workflow.id, t.workflow.version, JSON.stringify(t.metadata)]);
  }

  async findTarget(ctx: MessageContext, jobId: string): Promise<JobTarget | undefined> {
    // Flush first: the job.requested of this job may be in the same chunk.
    await this.targetsWrite(ctx).flush(ctx.manager);
    const rows: {
      job_id: string;
      tenant_id: string;
      webhook_url: string | null;
      result_topic: string | null;
      workflow_id: string;
      workflow_version: number;
      metadata: Record<string, string>;
    }[] = await ctx.manager.query(`SELECT * FROM job_targets WHERE job_id = $1`, [jobId]);
    const r = rows[0];
    if (!r) return undefined;
    return {
      jobId: r.job_id,
      tenantId: r.tenant_id,
      webhookUrl: r.webhook_url,
      resultTopic: r.result_topic,
      workflow: { id: r.workflow_id, version: r.workflow_version },
      metadata: r.metadata,
    };
  }

  private targetsWrite(ctx: MessageContext): BatchInsert {
    return ctx.deferred(
      'job-targets',
      () =>
        new BatchInsert(
          'job_targets',
          ['job_id', 'tenant_id', 'webhook_url', 'result_topic', 'workflow_id', 'workflow_version', 'metadata'],
          'ON CONFLICT (job_id) DO NOTHING',
        ),
    );
  }

  /**
   * Starts a new round for a job's finished deliveries (delivered or failed): due now, attempt count
   * and horizon from here; re-enables their targets. Returns how many were requeued.
   */
  async requeue(ctx: MessageContext, jobId: string, tenantId: string): Promise<number> {
    // TypeORM answers an UPDATE ... RETURNING with [rows, affected].
    const [rows]: [{ url: string }[], number] = await ctx.manager.query(
      `UPDATE deliveries SET status = 'pending', round_base = attempts, round_started_at = now(), next_attempt_at = now(),
                             locked_until = NULL, updated_at = now()
        WHERE job_id = $1 AND tenant_id = $2 AND kind = 'job' AND status IN ('delivered', 'failed')
        RETURNING url`,
      [jobId, tenantId],
    );
    if (rows.length > 0) {
      this.wakeAfterCommit(ctx.manager);
      await ctx.manager.query(
        `UPDATE webhook_targets SET disabled_at = NULL, disabled_reason = NULL, updated_at = now()
          WHERE tenant_id = $1 AND url = ANY($2::text[])`,
        [tenantId, rows.map((r) => r.url)],
      );
    }
    return rows.length;
  }

  /**
   * Claims due deliveries with a lease (SKIP LOCKED: replicas share the work). A replica that dies
   * mid-send loses its lease and the delivery is tried again, with the same webhook-id.
   */
  async claimDue(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const rows: ClaimedRow[] = await this.dataSource.query(
      `WITH claimed AS (
         UPDATE deliveries SET locked_until = now() + ($2 || ' milliseconds')::interval,
                               attempts = attempts + 1, updated_at = now()
          WHERE id IN (SELECT id FROM deliveries
                        WHERE status = 'pending' AND next_attempt_at <= now()
                          AND (locked_until IS NULL OR locked_until < now())
                        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
          RETURNING id, job_id, tenant_id, url, outcome, payload, trace_headers, attempts, round_base, round_started_at, kind)
       SELECT c.*, t.disabled_reason FROM claimed c
         LEFT JOIN webhook_targets t ON t.tenant_id = c.tenant_id AND t.url = c.url AND t.disabled_at IS NOT NULL`,
      [limit, String(leaseMs)],
    );
    return rows.map((r) => ({
      id: r.id,
      jobId: r.job_id,
      tenantId: r.tenant_id,
      url: r.url,
      outcome: r.outcome,
      payload: r.payload,
      traceHeaders: r.trace_headers,
      attempt: r.attempts,
      roundBase: r.round_base,
      roundStartedAt: new Date(r.round_started_at),
      targetDisabledReason: r.disabled_reason ?? undefined,
      kind: r.kind,
    }));
  }

  /**
   * Records attempts, moves each delivery on, and writes the resulting events, in one transaction
   * of a few statements whatever the number of deliveries.
   */
  async recordAttempts(attempts: AttemptRecord[], events: OutboxRecord[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const sent = attempts.filter((a) => a.sent);
      if (sent.length > 0) {
        await manager.query(
          `INSERT INTO delivery_attempts (delivery_id, attempt, status_code, error, latency_ms)
           SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::real[])`,
          [
            sent.map((a) => a.deliveryId),
            sent.map((a) => a.attempt),
            sent.map((a) => a.statusCode ?? null),
            sent.map((a) => a.error ?? null),
            sent.map((a) => a.latencyMs),
          ],
        );
      }
      if (attempts.length > 0) {
        await manager.query(
          `UPDATE deliveries d SET status = u.status, next_attempt_at = COALESCE(u.next_attempt_at, d.next_attempt_at),
                                   locked_until = NULL, attempts = CASE WHEN u.sent THEN d.attempts ELSE d.attempts - 1 END,
                                   last_error = u.error, last_code = u.code, updated_at = now()
             FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::bool[])
                  AS u(id, status, next_attempt_at, error, code, sent)
            WHERE d.id = u.id`,
          [
            attempts.map((a) => a.deliveryId),
            attempts.map((a) => a.status),
            attempts.map((a) => a.nextAttemptAt ?? null),
            attempts.map((a) => a.error ?? null),
            attempts.map((a) => a.code ?? null),
            attempts.map((a) => a.sent),
          ],
        );
      }
      for (const a of attempts) {
        if (!a.disable) continue; // a 410: rare
        await manager.query(
          `INSERT INTO webhook_targets (tenant_id, url, disabled_at, disabled_reason) VALUES ($1, $2, now(), $3)
           ON CONFLICT (tenant_id, url) DO UPDATE SET disabled_at = now(), disabled_reason = $3, updated_at = now()`,
          [a.disable.tenantId, a.disable.url, a.disable.reason],
        );
      }
      await appendToOutbox(manager, events);
    });
  }
}
