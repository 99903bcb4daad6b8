import type { DeferredWrite } from '@troupe/messaging';
import { afterCommit } from '@troupe/persistence';
import { tenantCostUsd, tenantOf } from '../usage/usage-metrics';
import type { EntityManager } from 'typeorm';
import type { BudgetLedger } from './budget-ledger';
import { maxPico, picoText, picoUsd, toPico, type Pico } from './money';

/** One model call as a ledger row. */
export interface CostRow {
  eventId: string;
  idx: number;
  jobId: string;
  stage: string;
  step?: string;
  stepRun?: number;
  generationAttempt?: number;
  model: string;
  try: number;
  outcome: string;
  errorKind?: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMs: number;
}

/**
 * A consumer chunk's cost bookkeeping, in its transaction: the model calls its events report go
 * into the job's ledger (once: the key is the event id and the call's index), the job's cost is the
 * ledger's sum, and the budget ledger moves reservations to spent and settles ended jobs.
 */
export class CostLedgerBatch implements DeferredWrite {
  private readonly rows: CostRow[] = [];
  private readonly expected = new Map<string, Pico>();
  private readonly ended = new Set<string>();

  constructor(private readonly budgets: BudgetLedger) {}

  calls(rows: CostRow[]): void {
    this.rows.push(...rows);
  }

  /** A stage said the job's model calls have cost this much in all, so far. */
  expect(jobId: string, costUsd: number): void {
    this.expected.set(jobId, maxPico(this.expected.get(jobId) ?? 0n, toPico(costUsd)));
  }

  /** The job's model work is over (its outcome is known). */
  end(jobId: string): void {
    this.ended.add(jobId);
  }

  async flush(manager: EntityManager): Promise<void> {
    const ids = [...new Set([...this.rows.map((r) => r.jobId), ...this.expected.keys(), ...this.ended])].sort();
    if (ids.length === 0) return;
    // One job's events may be consumed by two chunks at once (different topics): its row serialises them.
    await manager.query(`SELECT id FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [ids]);
    const added = new Map<string, Pico>();
    if (this.rows.length > 0) {
      const r = this.rows;
      const inserted: { job_id: string; cost_usd: string }[] = await manager.query(
        `INSERT INTO job_costs (event_id, idx, job_id, stage, step_id, step_run, generation_attempt, model, try, outcome,
                                error_kind, input_tokens, output_tokens, cost_usd, latency_ms)
         SELECT c.* FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::text[], $6::int[], $7::int[], $8::text[], $9::int[],
                                $10::text[], $11::text[], $12::int[], $13::int[], $14::numeric[], $15::real[])
                 AS c(event_id, idx, job_id, stage, step_id, step_run, generation_attempt, model, try, outcome, error_kind,
                      input_tokens, output_tokens, cost_usd, latency_ms)
          WHERE EXISTS (SELECT 1 FROM jobs WHERE jobs.id = c.job_id)
         ON CONFLICT (event_id, idx) DO NOTHING
         RETURNING job_id, cost_usd::text`,
        [
          r.map((x) => x.eventId),
          r.map((x) => x.idx),
          r.map((x) => x.jobId),
          r.map((x) => x.stage),
          r.map((x) => x.step ?? null),
          r.map((x) => x.stepRun ?? null),
          r.map((x) => x.generationAttempt ?? null),
          r.map((x) => x.model),
          r.map((x) => x.try),
          r.map((x) => x.outcome),
          r.map((x) => x.errorKind ?? null),
          r.map((x) => x.inputTokens),
          r.map((x) => x.outputTokens),
          r.map((x) => picoText(toPico(x.costUsd))),
          r.map((x) => x.latencyMs),
        ],
      );
      for (const row of inserted) added.set(row.job_id, (added.get(row.job_id) ?? 0n) + toPico(row.cost_usd));
    }
    // An UPDATE ... RETURNING answers [rows, count] through TypeORM.
    const [state]: [{ id: string; tenant_id: string; workflow_id: string; cost_usd: string | null; expected_cost_usd: string | null; ended_at: Date | null; settled_at: Date | null }[], number] =
      await manager.query(
        `UPDATE jobs j SET cost_usd = COALESCE(j.cost_usd, 0) + u.added,
                           expected_cost_usd = GREATEST(j.expected_cost_usd, u.expected),
                           ended_at = CASE WHEN u.ended THEN COALESCE(j.ended_at, now()) ELSE j.ended_at END
           FROM unnest($1::uuid[], $2::numeric[], $3::numeric[], $4::boolean[]) AS u(id, added, expected, ended)
          WHERE j.id = u.id
         RETURNING j.id, j.tenant_id, j.workflow_id, j.cost_usd::text, j.expected_cost_usd::text, j.ended_at, j.settled_at`,
        [
          ids,
          ids.map((id) => picoText(added.get(id) ?? 0n)),
          ids.map((id) => (this.expected.has(id) ? picoText(this.expected.get(id)!) : null)),
          ids.map((id) => this.ended.has(id)),
        ],
      );
    const settled = await this.budgets.apply(
      manager,
      state.map((s) => ({
        jobId: s.id,
        added: added.get(s.id) ?? 0n,
        cost: toPico(s.cost_usd),
        expected: toPico(s.expected_cost_usd),
        ended: s.ended_at !== null,
        settled: s.settled_at !== null,
      })),
    );
    if (settled.length > 0) await manager.query(`UPDATE jobs SET settled_at = now() WHERE id = ANY($1::uuid[])`, [settled]);
    afterCommit(manager, () => {
      for (const s of state) {
        const cost = added.get(s.id);
        if (cost) tenantCostUsd.inc({ tenant: tenantOf(s.tenant_id), workflow: s.workflow_id }, picoUsd(cost));
      }
    });
  }
}
