import { metricsRegistry } from '@troupe/telemetry';
import { Counter, Gauge, Histogram } from 'prom-client';

// Job-level series carry `tenant`: one series per tenant × workflow × outcome. Model-level series
// (libs/models) do not: per model × outcome × tenant would multiply with every model and error
// kind. TROUPE_METRICS_TENANT_LABEL=false folds every tenant into `_all` for very many tenants.

export const jobsFinished = new Counter({
  name: 'troupe_jobs_finished_total',
  help: 'Jobs finished for their client, by tenant, workflow and how (delivered, delivery_failed, failed, rejected, cancelled)',
  labelNames: ['tenant', 'workflow', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const jobsSlow = new Counter({
  name: 'troupe_jobs_slower_than_objective_total',
  help: "Delivered jobs whose end-to-end latency exceeded their workflow's latencyP95Ms objective",
  labelNames: ['tenant', 'workflow'] as const,
  registers: [metricsRegistry],
});

export const jobE2eSeconds = new Histogram({
  name: 'troupe_job_e2e_seconds',
  help: 'End-to-end time of finished jobs, from acceptance to how they finished (outcome: delivered, delivery_failed, failed, rejected, cancelled)',
  labelNames: ['workflow', 'outcome'] as const,
  buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300],
  registers: [metricsRegistry],
});

export const tenantCostUsd = new Counter({
  name: 'troupe_tenant_cost_usd_total',
  help: "Model cost recorded in jobs' cost ledgers, by tenant and workflow",
  labelNames: ['tenant', 'workflow'] as const,
  registers: [metricsRegistry],
});

export const sloObjective = new Gauge({
  name: 'troupe_slo_objective',
  help: "A workflow's declared objective: delivered (ratio) or latency_p95_seconds",
  labelNames: ['workflow', 'objective'] as const,
  registers: [metricsRegistry],
});

let tenantLabel = true;
/** Set once at start-up from TROUPE_METRICS_TENANT_LABEL. */
export function useTenantLabel(enabled: boolean): void {
  tenantLabel = enabled;
}
export const tenantOf = (tenantId: string) => (tenantLabel ? tenantId : '_all');
