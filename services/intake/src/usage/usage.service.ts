import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Principal } from '../auth/api-keys';
import { IntakeErrorCode, IntakeException } from '../http/intake.exception';
import { WorkflowRegistry } from '../workflows/workflow-registry';
import type { UsageQuery, UsageResponse } from './usage.api';

const DAY_MS = 24 * 3600_000;
const MAX_RANGE_MS = 400 * DAY_MS;

/** The SQL key of each grouping (code, never input). */
const GROUP_KEY: Record<UsageQuery['groupBy'], string> = {
  workflow: 'j.workflow_id',
  key: `COALESCE(j.key_id, 'unknown')`,
  day: `to_char(j.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  model: 'c.model',
};

/**
 * Usage of the jobs created in a window: counts, outcomes (as the client saw them: delivered is a
 * success; failed, rejected and delivery_failed are failures; cancelled is neither), tokens and cost
 * from the jobs' cost ledgers, and end-to-end latency of delivered jobs.
 */
@Injectable()
export class UsageService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(WorkflowRegistry) private readonly workflows: WorkflowRegistry,
  ) {}

  async usage(principal: Principal, query: UsageQuery): Promise<UsageResponse> {
    const to = query.to ? new Date(query.to) : new Date();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - 30 * DAY_MS);
    if (from >= to || to.getTime() - from.getTime() > MAX_RANGE_MS) {
      throw new IntakeException(IntakeErrorCode.VALIDATION_FAILED, HttpStatus.BAD_REQUEST, '`from` must be before `to`, at most 400 days apart');
    }
    let tenant: string | null = principal.tenantId;
    if (principal.role === 'platform') tenant = !query.tenant || query.tenant === '*' ? null : query.tenant;
    else if (query.tenant && query.tenant !== principal.tenantId) {
      throw new IntakeException(IntakeErrorCode.FORBIDDEN, HttpStatus.FORBIDDEN, 'only the platform role sees other tenants');
    }
    const key = GROUP_KEY[query.groupBy];
    // By model: a job counts in each model it called; its tokens and cost are that model's calls only.
    const perModel = query.groupBy === 'model';
    const rows: Row[] = await this.dataSource.query(
      `WITH j AS (
         SELECT j.id, j.workflow_id, j.key_id, j.created_at, j.finished_as,
                EXTRACT(EPOCH FROM (j.finished_at - j.created_at)) * 1000 AS latency_ms
           FROM jobs j
          WHERE j.created_at >= $1 AND j.created_at < $2 AND ($3::text IS NULL OR j.tenant_id = $3) AND j.replay_id IS NULL
       ), per_job AS (
         SELECT ${key} AS key, j.id, j.finished_as, j.latency_ms,
                COALESCE(sum(c.input_tokens), 0) AS input, COALESCE(sum(c.output_tokens), 0) AS output,
                COALESCE(sum(c.cost_usd), 0) AS cost
           FROM j ${perModel ? 'JOIN' : 'LEFT JOIN'} job_costs c ON c.job_id = j.id
          GROUP BY 1, j.id, j.finished_as, j.latency_ms
       )
       SELECT key, count(*)::int AS jobs,
              count(*) FILTER (WHERE finished_as = 'delivered')::int AS succeeded,
              count(*) FILTER (WHERE finished_as IN ('failed', 'rejected', 'delivery_failed'))::int AS failed,
              count(*) FILTER (WHERE finished_as IS NOT NULL AND finished_as <> 'cancelled')::int AS finished,
              sum(input)::bigint::text AS input, sum(output)::bigint::text AS output, sum(cost)::text AS cost,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE finished_as = 'delivered') AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE finished_as = 'delivered') AS p95
         FROM per_job GROUP BY key ORDER BY key`,
      [from.toISOString(), to.toISOString(), tenant],
    );
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      groupBy: query.groupBy,
      groups: rows.map((r) => {
        const cost = Number(r.cost);
        const p50 = r.p50 === null ? null : Math.round(Number(r.p50));
        const p95 = r.p95 === null ? null : Math.round(Number(r.p95));
        const group = {
          key: r.key,
          jobs: r.jobs,
          succeeded: r.succeeded,
          failed: r.failed,
          tokens: { input: Number(r.input), output: Number(r.output) },
          costUsd: cost,
          costPerSuccessfulJobUsd: r.succeeded > 0 ? Math.round((cost / r.succeeded) * 1e12) / 1e12 : null,
          latencyMs: { p50, p95 },
        };
        const objectives = query.groupBy === 'workflow' ? this.workflows.resolve(r.key)?.objectives : undefined;
        if (!objectives) return group;
        const delivered = r.finished > 0 ? r.succeeded / r.finished : null;
        return {
          ...group,
          slo: {
            delivered:
              objectives.delivered === undefined
                ? undefined
                : { target: objectives.delivered, actual: delivered, met: delivered === null ? null : delivered >= objectives.delivered },
            latencyP95Ms:
              objectives.latencyP95Ms === undefined
                ? undefined
                : { target: objectives.latencyP95Ms, actual: p95, met: p95 === null ? null : p95 <= objectives.latencyP95Ms },
          },
        };
      }),
    };
  }
}

interface Row {
  key: string;
  jobs: number;
  succeeded: number;
  failed: number;
  finished: number;
  input: string;
  output: string;
  cost: string;
  p50: number | null;
  p95: number | null;
}
