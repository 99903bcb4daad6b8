import { Injectable } from '@nestjs/common';
import type { ReplayTarget } from '@troupe/contracts';
import { DataSource, type EntityManager } from 'typeorm';

/** A past job as a replay reads it. */
export interface OriginalJob {
  id: string;
  workflow_id: string;
  workflow_version: number;
  input: { text: string };
  metadata: Record<string, string>;
  retain_until: Date | null;
  data_erased_at: Date | null;
}

export interface ReplayRow {
  id: string;
  tenant_id: string;
  workflow_id: string;
  target: ReplayTarget;
  charge_budget: boolean;
  references: Record<string, unknown>;
  skipped: { jobId: string; reason: string }[];
  job_count: number;
  created_at: Date;
  /** Shadow jobs finished so far, and when the last one did. */
  finished: number;
  last_finished_at: Date | null;
}

/** One job of a comparison (original or shadow), with its review (originals) and its model calls' time. */
export interface ComparedJob {
  id: string;
  shadow_of: string | null;
  workflow_id: string;
  workflow_version: number;
  status: string;
  outcome: string | null;
  result: unknown;
  errors: { code: string; message: string; path?: string }[] | null;
  cost_usd: string | null;
  created_at: Date;
  finished_at: Date | null;
  would_review: { heldBecause: string[]; findings: { code: string; message: string; path?: string }[] } | null;
  model_ms: number;
  review_held_because: string[] | null;
  review_findings: { code: string; message: string; path?: string }[] | null;
  review_output: unknown;
  review_status: string | null;
  review_decision: { decision: 'approve' | 'edit' | 'reject' } | null;
}

const REPLAY = `SELECT r.*, COALESCE(f.finished, 0)::int AS finished, f.last_finished_at
                 FROM replays r
                 LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE finished_at IS NOT NULL) AS finished, max(finished_at) AS last_finished_at
                                      FROM jobs WHERE replay_id = r.id) f ON true`;

const COMPARED = `SELECT j.id, j.shadow_of, j.workflow_id, j.workflow_version, j.status, j.outcome, j.result, j.errors, j.cost_usd::text,
                         j.created_at, j.finished_at, j.would_review,
                         (SELECT COALESCE(sum(c.latency_ms), 0) FROM job_costs c WHERE c.job_id = j.id)::float8 AS model_ms,
                         rv.held_because AS review_held_because, rv.findings AS review_findings, rv.output AS review_output,
                         rv.status AS review_status, rv.decision AS review_decision
                    FROM jobs j LEFT JOIN reviews rv ON rv.job_id = j.id`;

@Injectable()
export class ReplaysRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The tenant's jobs with these ids that are not shadows themselves. */
  async originalsById(tenantId: string, ids: string[]): Promise<OriginalJob[]> {
    return this.dataSource.query(
      `SELECT id, workflow_id, workflow_version, input, metadata, retain_until, data_erased_at
         FROM jobs WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND replay_id IS NULL ORDER BY created_at DESC, id DESC`,
      [tenantId, ids],
    );
  }

  /** A window of the tenant's jobs of one workflow, newest first; without `status`, those that have finished. */
  async originalsInWindow(
    tenantId: string,
    w: { workflow: string; from?: string; to?: string; label?: string; status?: string; limit: number },
  ): Promise<OriginalJob[]> {
    const params: unknown[] = [tenantId, w.workflow];
    const where = [`tenant_id = $1`, `workflow_id = $2`, `replay_id IS NULL`];
    where.push(w.status ? `status = $${params.push(w.status)}` : `finished_at IS NOT NULL`);
    if (w.from) where.push(`created_at >= $${params.push(w.from)}::timestamptz`);
    if (w.to) where.push(`created_at < $${params.push(w.to)}::timestamptz`);
    if (w.label) where.push(`label = $${params.push(w.label)}`);
    return this.dataSource.query(
      `SELECT id, workflow_id, workflow_version, input, metadata, retain_until, data_erased_at
         FROM jobs WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${params.push(w.limit)}`,
      params,
    );
  }

  async insert(
    manager: EntityManager,
    r: { id: string; tenantId: string; workflowId: string; target: ReplayTarget; selection: unknown; chargeBudget: boolean; references: Record<string, unknown>; skipped: unknown[]; jobCount: number; keyId: string | null },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO replays (id, tenant_id, workflow_id, target, selection, charge_budget, "references", skipped, job_count, key_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [r.id, r.tenantId, r.workflowId, JSON.stringify(r.target), JSON.stringify(r.selection), r.chargeBudget, JSON.stringify(r.references), JSON.stringify(r.skipped), r.jobCount, r.keyId],
    );
  }

  async find(tenantId: string, id: string): Promise<ReplayRow | undefined> {
    const rows: ReplayRow[] = await this.dataSource.query(`${REPLAY} WHERE r.id = $1 AND r.tenant_id = $2`, [id, tenantId]);
    return rows[0];
  }

  async list(tenantId: string, limit: number): Promise<ReplayRow[]> {
    return this.dataSource.query(`${REPLAY} WHERE r.tenant_id = $1 ORDER BY r.created_at DESC, r.id DESC LIMIT $2`, [tenantId, limit]);
  }

  /** The replay's shadow jobs, then their originals. */
  async compared(replayId: string): Promise<{ shadows: ComparedJob[]; originals: ComparedJob[] }> {
    const shadows: ComparedJob[] = await this.dataSource.query(`${COMPARED} WHERE j.replay_id = $1 ORDER BY j.created_at, j.id`, [replayId]);
    const originals: ComparedJob[] = await this.dataSource.query(`${COMPARED} WHERE j.id = ANY($1::uuid[])`, [shadows.map((s) => s.shadow_of)]);
    return { shadows, originals };
  }
}
