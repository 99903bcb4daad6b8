import { Injectable } from '@nestjs/common';
import { appendToOutbox, BatchInsert, type MessageContext, type OutboxRecord } from '@troupe/messaging';
import { DataSource } from 'typeorm';

export interface ScheduledDelivery {
  id: string;
  jobId: string;
  tenantId: string;
  url: string;
  outcome: 'validated' | 'rejected';
  payload: unknown;
  traceHeaders: Record<string, string>;
}

export interface ClaimedDelivery extends ScheduledDelivery {
  /** This attempt's number, counting from 1. */
  attempt: number;
}

export interface AttemptRecord {
  deliveryId: string;
  attempt: number;
  statusCode?: number;
  error?: string;
  latencyMs: number;
  /** The delivery's state after this attempt. */
  status: 'pending' | 'delivered' | 'failed';
  nextAttemptAt?: Date;
}

interface ClaimedRow {
  id: string;
  job_id: string;
  tenant_id: string;
  url: string;
  outcome: 'validated' | 'rejected';
  payload: unknown;
  trace_headers: Record<string, string>;
  attempts: number;
}

@Injectable()
export class DeliveriesRepository {
  constructor(private readonly dataSource: DataSource) {}

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
            ['id', 'job_id', 'tenant_id', 'url', 'outcome', 'payload', 'trace_headers'],
            'ON CONFLICT (id) DO NOTHING',
          ),
      )
      .add([d.id, d.jobId, d.tenantId, d.url, d.outcome, JSON.stringify(d.payload), JSON.stringify(d.traceHeaders)]);
  }

  /**
   * Claims due deliveries with a lease (SKIP LOCKED: replicas share the work). A replica that dies
   * mid-send loses its lease and the delivery is tried again, with the same webhook-id.
   */
  async claimDue(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const [rows]: [ClaimedRow[], number] = await this.dataSource.query(
      `UPDATE deliveries SET locked_until = now() + ($2 || ' milliseconds')::interval,
                             attempts = attempts + 1, updated_at = now()
        WHERE id IN (SELECT id FROM deliveries
                      WHERE status = 'pending' AND next_attempt_at <= now()
                        AND (locked_until IS NULL OR locked_until < now())
                      ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING id, job_id, tenant_id, url, outcome, payload, trace_headers, attempts`,
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
    }));
  }

  /** Records attempts, moves each delivery on, and writes the resulting events, in one transaction. */
  async recordAttempts(attempts: AttemptRecord[], events: OutboxRecord[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      for (const a of attempts) {
        await manager.query(
          `INSERT INTO delivery_attempts (delivery_id, attempt, status_code, error, latency_ms) VALUES ($1, $2, $3, $4, $5)`,
          [a.deliveryId, a.attempt, a.statusCode ?? null, a.error ?? null, a.latencyMs],
        );
        await manager.query(
          `UPDATE deliveries SET status = $2, next_attempt_at = COALESCE($3, next_attempt_at), locked_until = NULL,
                                 last_error = $4, updated_at = now()
            WHERE id = $1`,
          [a.deliveryId, a.status, a.nextAttemptAt ?? null, a.error ?? null],
        );
      }
      await appendToOutbox(manager, events);
    });
  }
}
