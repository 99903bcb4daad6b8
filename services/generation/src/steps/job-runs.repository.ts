import { Injectable } from '@nestjs/common';
import { JOB_COST_RECORDED_V1, type FailureReason, type JobClassifiedV1, type JobCostRecordedV1, type RepairState, type StepResult } from '@troupe/contracts';
import { createHash } from 'node:crypto';
import { appendToOutbox, toOutboxRecord, type DeferredWrite } from '@troupe/messaging';
import { afterCommit } from '@troupe/persistence';
import { DataSource, type EntityManager } from 'typeorm';
import type { AttemptRow, RunStatus, StepWrite } from './graph-progress';
import type { StepRow } from './job-run';

/** A job run as stored: everything but the compiled graph. */
export interface RunRecord {
  jobId: string;
  tenantId: string;
  status: RunStatus;
  attempt: number;
  job: JobClassifiedV1;
  repair?: RepairState;
  previousErrors?: FailureReason[];
  traceHeaders: Record<string, string>;
  causationId?: string;
  costUsd: number;
  attemptStartedAt: Date;
}

/** A step that just ran, to record if this executor still holds it. */
export interface FinishedWrite {
  jobId: string;
  stepId: string;
  run: number;
  result: StepResult;
  /**
   * Keep the output and result in the row: a later transaction reads them (downstream steps, the
   * output mapping). A one-step graph's result is used at once, by the transaction recording it.
   */
  keep: boolean;
}

interface RunRow {
  job_id: string;
  tenant_id: string;
  status: RunStatus;
  attempt: number;
  context: string;
  snapshot: string;
  repair: RepairState | null;
  previous_errors: FailureReason[] | null;
  trace_headers: Record<string, string>;
  causation_id: string | null;
  cost_usd: string;
  attempt_started_at: Date;
}

const GENERATION_COLUMNS = [
  'job_id',
  'tenant_id',
  'workflow_id',
  'step_id',
  'route',
  'model',
  'input_tokens',
  'output_tokens',
  'cost_usd',
  'latency_ms',
  'generation_attempt',
  'try',
  'outcome',
  'error_kind',
  'strategy',
  'chosen',
];

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
const interval = (ms: number) => `${Math.max(0, Math.round(ms))} milliseconds`;

/**
 * Every write of one transaction to the step graphs' tables, in **one statement** whatever the
 * number of jobs (a consumer chunk, or a batch of finished steps): runs started or restarted (with
 * their workflow snapshot, stored once per distinct text), step rows scheduled (leased to
 * `leaseOwner`), skipped, failed or cancelled, run totals, and the model attempts for cost
 * accounting, as data-modifying CTEs.
 */
export class GraphWrites implements DeferredWrite {
  private readonly runs = new Map<string, RunRecord>();
  private readonly steps = new Map<string, StepWrite>();
  private readonly totals = new Map<string, { status?: RunStatus; costUsd: number }>();
  private readonly attempts: unknown[][] = [];
  /** The same attempts by job: each job's `job.cost-recorded`, committed with them (the job's cost ledger). */
  private readonly calls = new Map<string, JobCostRecordedV1>();

  constructor(
    private readonly leaseOwner: string,
    private readonly leaseMs: number,
    /** Digests of the snapshots known to be stored already (per process). */
    private readonly storedSnapshots: Set<string> = new Set(),
  ) {}

  /** A new run, or a new attempt of an existing one (its context is kept). */
  startRun(run: RunRecord): void {
    this.runs.set(run.jobId, run);
  }

  step(write: StepWrite): void {
    this.steps.set(`${write.jobId}/${write.stepId}`, write); // the last write of a step wins
  }

  total(jobId: string, change: { status?: RunStatus; costUsd: number }): void {
    if (!change.status && change.costUsd === 0) return;
    const t = this.totals.get(jobId) ?? { costUsd: 0 };
    this.totals.set(jobId, { status: change.status ?? t.status, costUsd: t.costUsd + change.costUsd });
  }

  attempt(row: AttemptRow): void {
    const a = row.attempt;
    const chosen = a.outcome === 'succeeded' && !!row.chosenModel && row.chosenModel.split('+').includes(a.model);
    this.attempts.push([
      row.jobId,
      row.tenantId,
      row.workflowId,
      row.stepId,
      row.route,
      a.model,
      a.usage?.inputTokens ?? 0,
      a.usage?.outputTokens ?? 0,
      a.costUsd,
      a.latencyMs,
      row.generationAttempt,
      a.try,
      a.outcome,
      a.errorKind ?? null,
      row.strategy ?? null,
      chosen,
    ]);
    const event = this.calls.get(row.jobId) ?? {
      jobId: row.jobId,
      tenantId: row.tenantId,
      stage: 'generation' as const,
      workflow: { id: row.workflowId, version: row.workflowVersion },
      calls: [],
    };
    event.calls.push({
      step: row.stepId,
      stepRun: row.stepRun,
      generationAttempt: row.generationAttempt,
      model: a.model,
      try: a.try,
      outcome: a.outcome,
      errorKind: a.errorKind,
      usage: a.usage,
      costUsd: a.costUsd,
      latencyMs: a.latencyMs,
    });
    this.calls.set(row.jobId, event);
  }

  async flush(manager: EntityManager): Promise<void> {
    const params: unknown[] = [];
    const $ = (value: unknown) => `$${params.push(value)}`;
    const parts: string[] = [];
    const newSnapshots = new Map<string, string>();
    if (this.runs.size > 0) {
      const r = [...this.runs.values()];
      // A run started in this transaction takes its totals in the same row write (a CTE cannot update a row another CTE inserts).
      const total = (id: string) => this.totals.get(id);
      const contexts = r.map((x) => {
        const { workflow, ...rest } = x.job;
        const text = JSON.stringify(workflow);
        const digest = createHash('sha1').update(text).digest('base64url');
        if (!this.storedSnapshots.has(digest)) newSnapshots.set(digest, text);
        return { digest, context: JSON.stringify(rest) };
      });
      if (newSnapshots.size > 0) {
        parts.push(
          `INSERT INTO workflow_snapshots (digest, snapshot)
           SELECT * FROM unnest(${$([...newSnapshots.keys()])}::text[], ${$([...newSnapshots.values()])}::text[])
           ON CONFLICT (digest) DO NOTHING`,
        );
      }
      parts.push(
        `INSERT INTO job_runs (job_id, tenant_id, workflow_id, status, attempt, context, workflow_digest, repair, previous_errors,
                               trace_headers, causation_id, cost_usd, attempt_started_at)
         SELECT * FROM unnest(${$(r.map((x) => x.jobId))}::uuid[], ${$(r.map((x) => x.tenantId))}::text[],
                              ${$(r.map((x) => x.job.workflow.id))}::text[], ${$(r.map((x) => total(x.jobId)?.status ?? x.status))}::text[],
                              ${$(r.map((x) => x.attempt))}::int[], ${$(contexts.map((c) => c.context))}::text[],
                              ${$(contexts.map((c) => c.digest))}::text[], ${$(r.map((x) => json(x.repair)))}::jsonb[],
                              ${$(r.map((x) => json(x.previousErrors)))}::jsonb[], ${$(r.map((x) => JSON.stringify(x.traceHeaders)))}::jsonb[],
                              ${$(r.map((x) => x.causationId ?? null))}::text[],
                              ${$(r.map((x) => x.costUsd + (total(x.jobId)?.costUsd ?? 0)))}::numeric[],
                              ${$(r.map((x) => x.attemptStartedAt.toISOString()))}::timestamptz[])
         ON CONFLICT (job_id) DO UPDATE SET status = EXCLUDED.status, attempt = EXCLUDED.attempt, repair = EXCLUDED.repair,
           previous_errors = EXCLUDED.previous_errors, trace_headers = EXCLUDED.trace_headers,
           causation_id = EXCLUDED.causation_id, attempt_started_at = EXCLUDED.attempt_started_at, updated_at = now()`,
      ); // a restarted run keeps its cost: starting an attempt costs nothing
      for (const x of r) this.totals.delete(x.jobId);
    }
    if (this.steps.size > 0) {
      const s = [...this.steps.values()];
      parts.push(
        `INSERT INTO job_steps (job_id, step_id, run, status, attempt, output, result, lease_owner, lease_until)
         SELECT u.job_id, u.step_id, u.run, u.status, u.attempt, u.output, u.result,
                CASE WHEN u.status = 'pending' THEN ${$(this.leaseOwner)}::uuid END,
                CASE WHEN u.status = 'pending' THEN now() + ${$(interval(this.leaseMs))}::interval END
           FROM unnest(${$(s.map((x) => x.jobId))}::uuid[], ${$(s.map((x) => x.stepId))}::text[], ${$(s.map((x) => x.run))}::int[],
                       ${$(s.map((x) => x.status))}::text[], ${$(s.map((x) => x.attempt))}::int[],
                       ${$(s.map((x) => json(x.output)))}::jsonb[], ${$(s.map((x) => json(x.result)))}::jsonb[])
                AS u(job_id, step_id, run, status, attempt, output, result)
         ON CONFLICT (job_id, step_id) DO UPDATE SET run = EXCLUDED.run, status = EXCLUDED.status, attempt = EXCLUDED.attempt,
           output = EXCLUDED.output, result = EXCLUDED.result, lease_owner = EXCLUDED.lease_owner,
           lease_until = EXCLUDED.lease_until, updated_at = now()`,
      );
    }
    if (this.totals.size > 0) {
      const t = [...this.totals.entries()];
      parts.push(
        `UPDATE job_runs r SET status = COALESCE(u.status, r.status), cost_usd = r.cost_usd + u.cost_usd, updated_at = now()
           FROM unnest(${$(t.map(([id]) => id))}::uuid[], ${$(t.map(([, x]) => x.status ?? null))}::text[],
                       ${$(t.map(([, x]) => x.costUsd))}::numeric[]) AS u(job_id, status, cost_usd)
          WHERE r.job_id = u.job_id`,
      );
    }
    if (this.attempts.length > 0) {
      const column = (i: number) => this.attempts.map((row) => row[i]);
      const types = ['uuid', 'text', 'text', 'text', 'text', 'text', 'int', 'int', 'numeric', 'real', 'int', 'int', 'text', 'text', 'text', 'boolean'];
      parts.push(
        `INSERT INTO generations (${GENERATION_COLUMNS.join(', ')})
         SELECT * FROM unnest(${types.map((type, i) => `${$(column(i))}::${type}[]`).join(', ')})`,
      );
    }
    if (this.calls.size > 0) {
      const records = [...this.calls.values()].map((data) =>
        toOutboxRecord({ type: JOB_COST_RECORDED_V1, data }, { service: 'generation', correlationId: data.jobId }),
      );
      this.calls.clear();
      await appendToOutbox(manager, records);
    }
    if (parts.length === 0) return;
    const [last, ...before] = parts.reverse();
    const sql = before.length ? `WITH ${before.reverse().map((p, i) => `w${i} AS (${p})`).join(', ')} ${last}` : last;
    await manager.query(sql, params);
    // Known stored only once the transaction commits (a rolled-back one stored nothing).
    if (newSnapshots.size > 0) afterCommit(manager, () => newSnapshots.forEach((_, digest) => this.storedSnapshots.add(digest)));
    this.runs.clear();
    this.steps.clear();
    this.totals.clear();
    this.attempts.length = 0;
  }
}

/** The SQL of the step graphs' state: runs, step rows, leases. */
@Injectable()
export class JobRunsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * In one statement: locks the runs of the finished steps' jobs (in id order, so two transactions
   * never wait on each other in a circle), reads their status and cost, and records each finished
   * step only if it is still pending and leased to `owner` (not cancelled meanwhile, not taken over
   * by another executor after a lost lease). Returns the runs and the `jobId/stepId` recorded.
   */
  async finish(
    manager: EntityManager,
    owner: string,
    finished: FinishedWrite[],
  ): Promise<{ runs: Map<string, { status: RunStatus; costUsd: number }>; recorded: Set<string> }> {
    const jobIds = [...new Set(finished.map((f) => f.jobId))].sort();
    const rows: { kind: 'run' | 'step'; job_id: string; status: RunStatus | null; cost_usd: string | null; step_id: string | null }[] =
      await manager.query(
        `WITH runs AS (
           SELECT job_id, status, cost_usd FROM job_runs WHERE job_id = ANY($2::uuid[]) ORDER BY job_id FOR UPDATE
         ), recorded AS (
           UPDATE job_steps s SET status = u.status, output = u.output, result = u.result, lease_owner = NULL,
                                  lease_until = NULL, updated_at = now()
             FROM unnest($3::uuid[], $4::text[], $5::int[], $6::text[], $7::jsonb[], $8::jsonb[])
                  AS u(job_id, step_id, run, status, output, result)
             JOIN runs r ON r.job_id = u.job_id
            WHERE s.job_id = u.job_id AND s.step_id = u.step_id AND s.run = u.run AND s.status = 'pending'
              AND s.lease_owner = $1
            RETURNING s.job_id, s.step_id
         )
         SELECT 'run' AS kind, job_id, status, cost_usd::text, NULL AS step_id FROM runs
         UNION ALL SELECT 'step', job_id, NULL, NULL, step_id FROM recorded`,
        [
          owner,
          jobIds,
          finished.map((f) => f.jobId),
          finished.map((f) => f.stepId),
          finished.map((f) => f.run),
          finished.map((f) => f.result.status),
          finished.map((f) => (f.keep ? json(f.result.output) : null)),
          finished.map((f) => (f.keep ? json(f.result) : null)),
        ],
      );
    const runs = new Map<string, { status: RunStatus; costUsd: number }>();
    const recorded = new Set<string>();
    for (const r of rows) {
      if (r.kind === 'run') runs.set(r.job_id, { status: r.status!, costUsd: Number(r.cost_usd) });
      else recorded.add(`${r.job_id}/${r.step_id}`);
    }
    return { runs, recorded };
  }

  /** Every step row of these jobs. */
  async steps(manager: EntityManager, jobIds: string[]): Promise<Map<string, Map<string, StepRow>>> {
    const out = new Map<string, Map<string, StepRow>>(jobIds.map((id) => [id, new Map()]));
    if (jobIds.length === 0) return out;
    const rows: { job_id: string; step_id: string; run: number; status: StepRow['status']; attempt: number; output: unknown; result: StepResult | null }[] =
      await manager.query(`SELECT job_id, step_id, run, status, attempt, output, result FROM job_steps WHERE job_id = ANY($1::uuid[])`, [jobIds]);
    for (const r of rows) {
      out.get(r.job_id)?.set(r.step_id, {
        stepId: r.step_id,
        run: r.run,
        status: r.status,
        attempt: r.attempt,
        output: r.output ?? undefined,
        result: r.result ?? undefined,
      });
    }
    return out;
  }

  /** Runs as stored (for steps taken over after a lost lease, and for the repair loop). */
  async runs(manager: EntityManager, jobIds: string[], lock = false): Promise<Map<string, RunRecord>> {
    if (jobIds.length === 0) return new Map();
    const rows: RunRow[] = await manager.query(
      `SELECT r.job_id, r.tenant_id, r.status, r.attempt, r.context, w.snapshot, r.repair, r.previous_errors, r.trace_headers,
              r.causation_id, r.cost_usd, r.attempt_started_at
         FROM job_runs r JOIN workflow_snapshots w ON w.digest = r.workflow_digest
        WHERE r.job_id = ANY($1::uuid[]) ORDER BY r.job_id${lock ? ' FOR UPDATE OF r' : ''}`,
      [jobIds],
    );
    return new Map(
      rows.map((r) => [
        r.job_id,
        {
          jobId: r.job_id,
          tenantId: r.tenant_id,
          status: r.status,
          attempt: r.attempt,
          job: { ...JSON.parse(r.context), workflow: JSON.parse(r.snapshot) } as JobClassifiedV1,
          repair: r.repair ?? undefined,
          previousErrors: r.previous_errors ?? undefined,
          traceHeaders: r.trace_headers,
          causationId: r.causation_id ?? undefined,
          costUsd: Number(r.cost_usd),
          attemptStartedAt: new Date(r.attempt_started_at),
        },
      ]),
    );
  }

  /** Takes over pending steps whose lease ran out (their executor died), up to `limit`. */
  async claimExpired(owner: string, leaseMs: number, limit: number): Promise<{ jobId: string; stepId: string; run: number }[]> {
    const [rows]: [{ job_id: string; step_id: string; run: number }[], number] = await this.dataSource.query(
      `UPDATE job_steps s SET lease_owner = $1, lease_until = now() + $2::interval, updated_at = now()
         FROM (SELECT job_id, step_id FROM job_steps
                WHERE status = 'pending' AND lease_until < now()
                ORDER BY lease_until LIMIT $3 FOR UPDATE SKIP LOCKED) due
        WHERE s.job_id = due.job_id AND s.step_id = due.step_id
        RETURNING s.job_id, s.step_id, s.run`,
      [owner, interval(leaseMs), limit],
    );
    return rows.map((r) => ({ jobId: r.job_id, stepId: r.step_id, run: r.run }));
  }

  /** Extends the leases of every step this executor holds. */
  async renewLeases(owner: string, leaseMs: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE job_steps SET lease_until = now() + $2::interval WHERE lease_owner = $1 AND status = 'pending'`,
      [owner, interval(leaseMs)],
    );
  }

  /** Lets go of every step this executor holds (shutting down): another executor takes them at once. */
  async releaseLeases(owner: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE job_steps SET lease_owner = NULL, lease_until = now() WHERE lease_owner = $1 AND status = 'pending'`,
      [owner],
    );
  }

  /**
   * Cancels a job's run in the cancel request's transaction: the run and its pending steps are
   * marked cancelled (so no executor records or takes them over), and every generation process is
   * told at commit to abort the job's model calls in flight.
   */
  async cancel(manager: EntityManager, jobId: string, channel: string): Promise<void> {
    await manager.query(`UPDATE job_runs SET status = 'cancelled', updated_at = now() WHERE job_id = $1 AND status = 'running'`, [jobId]);
    await manager.query(
      `UPDATE job_steps SET status = 'cancelled', lease_owner = NULL, lease_until = NULL, updated_at = now()
        WHERE job_id = $1 AND status = 'pending'`,
      [jobId],
    );
    await manager.query(`SELECT pg_notify($1, $2)`, [channel, jobId]);
  }

  /** Deletes finished runs (and their steps) older than the retention. */
  async purge(retentionMs: number): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM job_runs WHERE status <> 'running' AND updated_at < now() - $1::interval`,
      [interval(retentionMs)],
    );
  }
}
