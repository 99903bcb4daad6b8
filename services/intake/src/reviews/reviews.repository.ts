import { Injectable } from '@nestjs/common';
import { appendToOutbox, type OutboxRecord } from '@troupe/messaging';
import { DataSource, type EntityManager } from 'typeorm';
import { ReviewEntity } from './review.entity';

export interface ReviewRow extends ReviewEntity {
  input: { text: string };
}

export interface ReviewFilter {
  statuses: string[];
  workflowId?: string;
  label?: string;
  jobId?: string;
  limit: number;
  after?: { requestedAt: string; id: string };
}

const SELECT = `SELECT r.*, j.input FROM reviews r JOIN jobs j ON j.id = r.job_id`;

const toRow = (r: Record<string, any>): ReviewRow => ({
  id: r.id,
  jobId: r.job_id,
  tenantId: r.tenant_id,
  workflowId: r.workflow_id,
  workflowVersion: r.workflow_version,
  status: r.status,
  label: r.label,
  confidence: r.confidence,
  output: r.output,
  outputSchema: r.output_schema,
  heldBecause: r.held_because,
  findings: r.findings,
  dueAt: r.due_at,
  onDeadline: r.on_deadline,
  decision: r.decision,
  requestedAt: r.requested_at,
  updatedAt: r.updated_at,
  traceHeaders: r.trace_headers ?? {},
  input: r.input,
});

@Injectable()
export class ReviewsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Oldest first (a queue), keyset-paginated on (requested_at, id). */
  async list(tenantId: string, f: ReviewFilter): Promise<ReviewRow[]> {
    const params: unknown[] = [tenantId, f.statuses];
    const where = [`r.tenant_id = $1`, `r.status = ANY($2::text[])`];
    if (f.workflowId) where.push(`r.workflow_id = $${params.push(f.workflowId)}`);
    if (f.label) where.push(`r.label = $${params.push(f.label)}`);
    if (f.jobId) where.push(`r.job_id = $${params.push(f.jobId)}::uuid`);
    if (f.after) {
      where.push(`(r.requested_at, r.id) > ($${params.push(f.after.requestedAt)}::timestamptz, $${params.push(f.after.id)}::uuid)`);
    }
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `${SELECT} WHERE ${where.join(' AND ')} ORDER BY r.requested_at, r.id LIMIT $${params.push(f.limit)}`,
      params,
    );
    return rows.map(toRow);
  }

  /**
   * Decided reviews with their job's input and final result (an edit's output), oldest decision
   * first: the evaluation dataset export. Jobs whose data was erased are left out (nothing is left to learn from).
   */
  async decided(
    tenantId: string,
    f: { from?: string; to?: string; workflowId?: string; limit: number },
  ): Promise<(ReviewRow & { result: unknown })[]> {
    const params: unknown[] = [tenantId];
    const where = [`r.tenant_id = $1`, `r.status = 'decided'`, `j.data_erased_at IS NULL`];
    if (f.workflowId) where.push(`r.workflow_id = $${params.push(f.workflowId)}`);
    if (f.from) where.push(`r.updated_at >= $${params.push(f.from)}::timestamptz`);
    if (f.to) where.push(`r.updated_at < $${params.push(f.to)}::timestamptz`);
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT r.*, j.input, j.result FROM reviews r JOIN jobs j ON j.id = r.job_id
        WHERE ${where.join(' AND ')} ORDER BY r.updated_at, r.id LIMIT $${params.push(f.limit)}`,
      params,
    );
    return rows.map((r) => ({ ...toRow(r), result: r.result }));
  }

  async find(tenantId: string, id: string): Promise<ReviewRow | undefined> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(`${SELECT} WHERE r.id = $1 AND r.tenant_id = $2`, [id, tenantId]);
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /**
   * Runs `decide` with the review locked, then records its decision and the event it produces in
   * one transaction: two reviewers deciding at once get one decision and one 409.
   */
  async decide<T>(
    tenantId: string,
    id: string,
    decide: (review: ReviewRow) => { decision: unknown; event: OutboxRecord; result: T },
  ): Promise<T | undefined> {
    return this.dataSource.transaction(async (manager: EntityManager) => {
      const rows: Record<string, unknown>[] = await manager.query(`${SELECT} WHERE r.id = $1 AND r.tenant_id = $2 FOR UPDATE OF r`, [id, tenantId]);
      if (!rows[0]) return undefined;
      const { decision, event, result } = decide(toRow(rows[0]));
      await manager.query(`UPDATE reviews SET status = 'decided', decision = $2, updated_at = now() WHERE id = $1`, [id, JSON.stringify(decision)]);
      await appendToOutbox(manager, [event]);
      return result;
    });
  }
}
