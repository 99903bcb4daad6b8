import { BUDGET_THRESHOLD_CROSSED_V1 } from '@troupe/contracts';
import { appendToOutbox, toOutboxRecord } from '@troupe/messaging';
import type { EntityManager } from 'typeorm';
import { periodEnd, periodStart, type BudgetPeriod } from './budget-period';
import { maxPico, minPico, picoText, picoUsd, toPico, type Pico } from './money';

/** A budget row as the ledger reads it. */
export interface BudgetRow {
  id: string;
  tenant_id: string;
  name: string;
  workflow_id: string | null;
  key_id: string | null;
  period: BudgetPeriod;
  limit_usd: string;
  thresholds: number[];
  alert_webhook_url: string | null;
}

/** What a new job asks to reserve. */
export interface ReservationRequest {
  jobId: string;
  tenantId: string;
  workflowId: string;
  keyId: string | null;
  amount: Pico;
}

/** Why a job's reservation was refused: the first budget it did not fit. */
export interface BudgetRefusal {
  budget: { id: string; name: string; workflowId: string | null; keyId: string | null; period: BudgetPeriod };
  limitUsd: number;
  remainingUsd: number;
  requiredUsd: number;
  resetsAt: string | null;
}

/** A job's change from one chunk of its events: new ledger cost, what the stages said it cost, its end. */
export interface JobCostChange {
  jobId: string;
  added: Pico;
  expected?: Pico;
  ended: boolean;
}

/** A period's counters after an update, with its budget's settings. */
interface PeriodState {
  budget_id: string;
  period_start: Date;
  spent_usd: string;
  thresholds_crossed: number[];
  name: string;
  tenant_id: string;
  workflow_id: string | null;
  key_id: string | null;
  period: BudgetPeriod;
  limit_usd: string;
  thresholds: number[];
  alert_webhook_url: string | null;
}

interface PeriodKey {
  budgetId: string;
  start: Date;
}
const keyOf = (budgetId: string, start: Date | string) => `${budgetId}@${new Date(start).toISOString()}`;

export const appliesTo = (b: Pick<BudgetRow, 'tenant_id' | 'workflow_id' | 'key_id'>, r: Pick<ReservationRequest, 'tenantId' | 'workflowId' | 'keyId'>) =>
  b.tenant_id === r.tenantId && (b.workflow_id === null || b.workflow_id === r.workflowId) && (b.key_id === null || b.key_id === r.keyId);

/**
 * The budget saga's bookkeeping, every write inside the caller's transaction:
 * - `reserve` (intake, with the jobs): each job's upper bound is added to `reserved` of every budget
 *   that applies, only if `spent + reserved + bound <= limit` for all of them;
 * - `apply` (intake's consumer, with the events): the ledger's new cost moves from reserved to spent;
 *   once the job has ended and the ledger holds what the stages reported, the rest of the
 *   reservation is released, once (`released_at`).
 * Period rows are locked in (budget, period) order, so concurrent transactions queue, never deadlock;
 * a conditional check under that lock is what makes overspending impossible across processes.
 */
export class BudgetLedger {
  constructor(private readonly now: () => Date = () => new Date()) {}

  async reserve(manager: EntityManager, requests: ReservationRequest[]): Promise<Map<string, { reserved: Pico } | { refused: BudgetRefusal }>> {
    const outcome = new Map<string, { reserved: Pico } | { refused: BudgetRefusal }>();
    if (requests.length === 0) return outcome;
    const tenants = [...new Set(requests.map((r) => r.tenantId))];
    const budgets: BudgetRow[] = await manager.query(
      `SELECT id, tenant_id, name, workflow_id, key_id, period, limit_usd::text, thresholds, alert_webhook_url
         FROM budgets WHERE tenant_id = ANY($1::text[]) ORDER BY id`,
      [tenants],
    );
    const now = this.now();
    const matching = new Map(requests.map((r) => [r.jobId, budgets.filter((b) => appliesTo(b, r))]));
    const used = [...new Map([...matching.values()].flat().map((b) => [b.id, b])).values()];
    if (used.length === 0) return outcome;
    const periods = new Map(used.map((b) => [b.id, periodStart(b.period, now)]));
    const counters = await this.lockPeriods(manager, [...periods].map(([budgetId, start]) => ({ budgetId, start })));
    const added = new Map<string, Pico>();
    const rows: { jobId: string; budgetId: string; start: Date; amount: Pico }[] = [];
    for (const r of requests) {
      const mine = matching.get(r.jobId)!;
      if (mine.length === 0) continue;
      const refusal = mine
        .map((b) => {
          const c = counters.get(keyOf(b.id, periods.get(b.id)!))!;
          const limit = toPico(b.limit_usd);
          const remaining = limit - c.spent - c.reserved;
          return remaining >= r.amount
            ? undefined
            : {
                budget: { id: b.id, name: b.name, workflowId: b.workflow_id, keyId: b.key_id, period: b.period },
                limitUsd: picoUsd(limit),
                remainingUsd: picoUsd(maxPico(0n, remaining)),
                requiredUsd: picoUsd(r.amount),
                resetsAt: periodEnd(b.period, periods.get(b.id)!)?.toISOString() ?? null,
              };
        })
        .find((x) => x !== undefined);
      if (refusal) {
        outcome.set(r.jobId, { refused: refusal });
        continue;
      }
      for (const b of mine) {
        const k = keyOf(b.id, periods.get(b.id)!);
        counters.get(k)!.reserved += r.amount;
        added.set(k, (added.get(k) ?? 0n) + r.amount);
        rows.push({ jobId: r.jobId, budgetId: b.id, start: periods.get(b.id)!, amount: r.amount });
      }
      outcome.set(r.jobId, { reserved: r.amount });
    }
    if (rows.length > 0) {
      const a = [...added];
      await manager.query(
        `UPDATE budget_periods p SET reserved_usd = p.reserved_usd + u.amount
           FROM unnest($1::uuid[], $2::timestamptz[], $3::numeric[]) AS u(budget_id, period_start, amount)
          WHERE p.budget_id = u.budget_id AND p.period_start = u.period_start`,
        [a.map(([k]) => k.split('@')[0]), a.map(([k]) => k.split('@')[1]), a.map(([, v]) => picoText(v))],
      );
      await manager.query(
        `INSERT INTO budget_reservations (job_id, budget_id, period_start, amount_usd)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::numeric[])`,
        [rows.map((x) => x.jobId), rows.map((x) => x.budgetId), rows.map((x) => x.start.toISOString()), rows.map((x) => picoText(x.amount))],
      );
    }
    return outcome;
  }

  /**
   * Applies jobs' new costs and ends to their reservations. The caller has locked the jobs' rows
   * (so one job's changes never race) and passes each job's state after this chunk.
   */
  async apply(
    manager: EntityManager,
    jobs: { jobId: string; added: Pico; cost: Pico; expected: Pico; ended: boolean; settled: boolean }[],
  ): Promise<string[]> {
    const settledNow: string[] = [];
    const ids = jobs.map((j) => j.jobId);
    if (ids.length === 0) return settledNow;
    const reservations: { job_id: string; budget_id: string; period_start: Date; amount_usd: string; consumed_usd: string; released_at: Date | null }[] =
      await manager.query(
        `SELECT job_id, budget_id, period_start, amount_usd::text, consumed_usd::text, released_at
           FROM budget_reservations WHERE job_id = ANY($1::uuid[])`,
        [ids],
      );
    const spent = new Map<string, Pico>();
    const released = new Map<string, Pico>();
    const updates: { jobId: string; budgetId: string; consumed: Pico; release: boolean }[] = [];
    const byJob = new Map<string, typeof reservations>();
    for (const r of reservations) byJob.set(r.job_id, [...(byJob.get(r.job_id) ?? []), r]);
    for (const job of jobs) {
      // Settles once the job's model work is over and its ledger holds all the stages reported.
      const settle = job.ended && !job.settled && job.cost >= job.expected;
      if (settle) settledNow.push(job.jobId);
      for (const r of byJob.get(job.jobId) ?? []) {
        const k = keyOf(r.budget_id, r.period_start);
        const amount = toPico(r.amount_usd);
        let consumed = toPico(r.consumed_usd);
        const open = r.released_at === null;
        let freed = 0n;
        if (job.added > 0n) {
          spent.set(k, (spent.get(k) ?? 0n) + job.added);
          // Cost within the reservation moves from reserved to spent; beyond it (a late call) it is spent only.
          if (open) freed += minPico(job.added, maxPico(0n, amount - consumed));
          consumed += job.added;
        }
        if (open && settle) freed += maxPico(0n, amount - consumed);
        if (freed > 0n) released.set(k, (released.get(k) ?? 0n) + freed);
        if (job.added > 0n || (open && settle)) updates.push({ jobId: job.jobId, budgetId: r.budget_id, consumed, release: open && settle });
      }
    }
    const touched = [...new Set([...spent.keys(), ...released.keys()])];
    if (touched.length > 0) {
      await this.lockPeriods(manager, touched.map((k) => ({ budgetId: k.split('@')[0], start: new Date(k.split('@')[1]) })));
      // An UPDATE ... RETURNING answers [rows, count] through TypeORM.
      const [rows]: [PeriodState[], number] = await manager.query(
          `UPDATE budget_periods p SET spent_usd = p.spent_usd + u.spent, reserved_usd = p.reserved_usd - u.released
             FROM unnest($1::uuid[], $2::timestamptz[], $3::numeric[], $4::numeric[]) AS u(budget_id, period_start, spent, released),
                  budgets b
            WHERE p.budget_id = u.budget_id AND p.period_start = u.period_start AND b.id = p.budget_id
           RETURNING p.budget_id, p.period_start, p.spent_usd::text, p.thresholds_crossed, b.name, b.tenant_id, b.workflow_id, b.key_id,
                     b.period, b.limit_usd::text, b.thresholds, b.alert_webhook_url`,
          [
            touched.map((k) => k.split('@')[0]),
            touched.map((k) => k.split('@')[1]),
            touched.map((k) => picoText(spent.get(k) ?? 0n)),
            touched.map((k) => picoText(released.get(k) ?? 0n)),
          ],
        );
      await this.thresholds(manager, rows, jobs.find((j) => j.added > 0n)?.jobId ?? ids[0]);
    }
    if (updates.length > 0) {
      await manager.query(
        `UPDATE budget_reservations r SET consumed_usd = u.consumed, released_at = CASE WHEN u.release THEN now() ELSE r.released_at END
           FROM unnest($1::uuid[], $2::uuid[], $3::numeric[], $4::boolean[]) AS u(job_id, budget_id, consumed, release)
          WHERE r.job_id = u.job_id AND r.budget_id = u.budget_id`,
        [updates.map((u) => u.jobId), updates.map((u) => u.budgetId), updates.map((u) => picoText(u.consumed)), updates.map((u) => u.release)],
      );
    }
    return settledNow;
  }

  /** Thresholds newly passed by `spent` in the period: recorded, and one event each. */
  private async thresholds(
    manager: EntityManager,
    rows: PeriodState[],
    jobId: string,
  ): Promise<void> {
    const crossed: { budgetId: string; start: Date; all: number[] }[] = [];
    const events = [];
    for (const row of rows) {
      const limit = toPico(row.limit_usd);
      const spent = toPico(row.spent_usd);
      const fresh = row.thresholds.filter(
        (t) => !row.thresholds_crossed.includes(t) && spent > 0n && spent * 1_000_000n >= limit * BigInt(Math.round(t * 1_000_000)),
      );
      if (fresh.length === 0) continue;
      crossed.push({ budgetId: row.budget_id, start: row.period_start, all: [...row.thresholds_crossed, ...fresh] });
      for (const threshold of fresh) {
        events.push(
          toOutboxRecord(
            {
              type: BUDGET_THRESHOLD_CROSSED_V1,
              data: {
                jobId,
                tenantId: row.tenant_id,
                budget: { id: row.budget_id, name: row.name, workflowId: row.workflow_id ?? undefined, keyId: row.key_id ?? undefined },
                threshold,
                limitUsd: picoUsd(limit),
                spentUsd: picoUsd(spent),
                periodStart: new Date(row.period_start).toISOString(),
                resetsAt: periodEnd(row.period, new Date(row.period_start))?.toISOString() ?? null,
                alertWebhook: row.alert_webhook_url ? { url: row.alert_webhook_url } : undefined,
                crossedAt: this.now().toISOString(),
              },
            },
            { service: 'intake', correlationId: jobId },
          ),
        );
      }
    }
    if (crossed.length === 0) return;
    await manager.query(
      `UPDATE budget_periods p SET thresholds_crossed = u.crossed
         FROM unnest($1::uuid[], $2::timestamptz[], $3::jsonb[]) AS u(budget_id, period_start, crossed)
        WHERE p.budget_id = u.budget_id AND p.period_start = u.period_start`,
      [crossed.map((c) => c.budgetId), crossed.map((c) => new Date(c.start).toISOString()), crossed.map((c) => JSON.stringify(c.all))],
    );
    await appendToOutbox(manager, events);
  }

  /** Creates missing period rows, then locks them in (budget, period) order; returns their counters. */
  private async lockPeriods(manager: EntityManager, keys: PeriodKey[]): Promise<Map<string, { spent: Pico; reserved: Pico }>> {
    const sorted = [...new Map(keys.map((k) => [keyOf(k.budgetId, k.start), k])).values()].sort((a, b) =>
      a.budgetId === b.budgetId ? a.start.getTime() - b.start.getTime() : a.budgetId < b.budgetId ? -1 : 1,
    );
    const ids = sorted.map((k) => k.budgetId);
    const starts = sorted.map((k) => k.start.toISOString());
    await manager.query(
      `INSERT INTO budget_periods (budget_id, period_start)
       SELECT * FROM unnest($1::uuid[], $2::timestamptz[]) ON CONFLICT DO NOTHING`,
      [ids, starts],
    );
    const rows: { budget_id: string; period_start: Date; spent_usd: string; reserved_usd: string }[] = await manager.query(
      `SELECT p.budget_id, p.period_start, p.spent_usd::text, p.reserved_usd::text
         FROM budget_periods p JOIN unnest($1::uuid[], $2::timestamptz[]) AS k(budget_id, period_start)
           ON p.budget_id = k.budget_id AND p.period_start = k.period_start
        ORDER BY p.budget_id, p.period_start
          FOR UPDATE OF p`,
      [ids, starts],
    );
    return new Map(rows.map((r) => [keyOf(r.budget_id, r.period_start), { spent: toPico(r.spent_usd), reserved: toPico(r.reserved_usd) }]));
  }
}
