import { Injectable } from '@nestjs/common';
import type { JobGeneratedV1 } from '@troupe/contracts';
import { appendToOutbox, BatchInsert, type MessageContext, type OutboxRecord } from '@troupe/messaging';
import { DataSource, type EntityManager } from 'typeorm';
import type { ReviewState } from './review.entity';

export interface OpenReview {
  id: string;
  jobId: string;
  tenantId: string;
  status: ReviewState;
  onDeadline: 'reject' | 'escalate';
  dueAt: Date;
  escalationSeconds: number | null;
  job: JobGeneratedV1;
  traceHeaders: Record<string, string>;
}

interface ReviewRow {
  id: string;
  job_id: string;
  tenant_id: string;
  status: ReviewState;
  on_deadline: 'reject' | 'escalate';
  due_at: Date;
  escalation_seconds: number | null;
  job: JobGeneratedV1;
  trace_headers: Record<string, string>;
}

const toReview = (r: ReviewRow): OpenReview => ({
  id: r.id,
  jobId: r.job_id,
  tenantId: r.tenant_id,
  status: r.status,
  onDeadline: r.on_deadline,
  dueAt: r.due_at,
  escalationSeconds: r.escalation_seconds,
  job: r.job,
  traceHeaders: r.trace_headers,
});

@Injectable()
export class ReviewsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Holds a result in the handler's chunk transaction; a redelivered event holds nothing new. */
  hold(
    ctx: MessageContext,
    r: { id: string; job: JobGeneratedV1; dueAt: Date; onDeadline: 'reject' | 'escalate'; traceHeaders: Record<string, string> },
  ): void {
    ctx
      .deferred('reviews', () => this.holdBatch())
      .add([
        r.id,
        r.job.jobId,
        r.job.tenantId,
        r.job.workflow.id,
        'pending',
        r.onDeadline,
        r.dueAt.toISOString(),
        r.job.workflow.review?.escalationDeadlineSeconds ?? null,
        JSON.stringify(r.job),
        JSON.stringify(r.traceHeaders),
      ]);
  }

  /** The chunk's held reviews, inserted in one statement. */
  holdBatch(): BatchInsert {
    return new BatchInsert(
      'reviews',
      ['id', 'job_id', 'tenant_id', 'workflow_id', 'status', 'on_deadline', 'due_at', 'escalation_seconds', 'job', 'trace_headers'],
      'ON CONFLICT (job_id) DO NOTHING',
    );
  }

  /** Closes the open review of a cancelled job (a decision or a deadline then finds it resolved). */
  async cancel(manager: EntityManager, jobId: string): Promise<void> {
    await manager.query(
      `UPDATE reviews SET status = 'cancelled', updated_at = now() WHERE job_id = $1 AND status IN ('pending', 'escalated')`,
      [jobId],
    );
  }

  /** The review, locked for the rest of the transaction (a deadline and a decision may race). */
  async lock(manager: EntityManager, id: string): Promise<OpenReview | undefined> {
    const rows: ReviewRow[] = await manager.query(
      `SELECT id, job_id, tenant_id, status, on_deadline, due_at, escalation_seconds, job, trace_headers FROM reviews WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0] ? toReview(rows[0]) : undefined;
  }

  async resolve(manager: EntityManager, id: string, status: ReviewState, decidedBy: string | null): Promise<void> {
    await manager.query(
      `UPDATE reviews SET status = $2, decided_by = $3, decided_at = CASE WHEN $3::text IS NULL THEN decided_at ELSE now() END,
                          updated_at = now() WHERE id = $1`,
      [id, status, decidedBy],
    );
  }

  /**
   * Claims pending reviews past their deadline (SKIP LOCKED: replicas share them, and one being
   * decided right now is left to its decision) and lets `apply` resolve them, its events included,
   * in the same transaction.
   */
  async expireDue(
    limit: number,
    apply: (due: OpenReview[]) => {
      updates: { id: string; status: ReviewState; reasons?: { code: string; message: string }[]; review: OpenReview }[];
      events: OutboxRecord[];
    },
  ): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const rows: ReviewRow[] = await manager.query(
        `SELECT id, job_id, tenant_id, status, on_deadline, due_at, escalation_seconds, job, trace_headers FROM reviews
          WHERE (status = 'pending' OR (status = 'escalated' AND escalation_seconds IS NOT NULL)) AND due_at <= now()
          ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      if (rows.length === 0) return 0;
      const { updates, events } = apply(rows.map(toReview));
      for (const u of updates) {
        await this.resolve(manager, u.id, u.status, null);
        if (u.status === 'escalated' && u.review.escalationSeconds !== null) {
          await manager.query(`UPDATE reviews SET due_at = now() + make_interval(secs => $2) WHERE id = $1`, [u.id, u.review.escalationSeconds]);
        }
        if (u.reasons) {
          await manager.query(
            `INSERT INTO validations (job_id, tenant_id, workflow_id, verdict, reasons) VALUES ($1, $2, $3, 'rejected', $4)
             ON CONFLICT (job_id) DO NOTHING`,
            [u.review.jobId, u.review.tenantId, u.review.job.workflow.id, JSON.stringify(u.reasons)],
          );
        }
      }
      await appendToOutbox(manager, events);
      return rows.length;
    });
  }
}
