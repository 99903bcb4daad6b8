import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '@troupe/telemetry';

export const modelCalls = new Counter({
  name: 'troupe_model_calls_total',
  help: 'Model calls (each retry counts), by model and outcome (ok or the error kind)',
  labelNames: ['model', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const modelCallSeconds = new Histogram({
  name: 'troupe_model_call_seconds',
  help: 'Latency of one model call, by model (P50/P95/P99 per model)',
  labelNames: ['model'] as const,
  buckets: [0.005, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [metricsRegistry],
});

export const modelTokens = new Counter({
  name: 'troupe_model_tokens_total',
  help: 'Tokens used, by model and direction (input, output)',
  labelNames: ['model', 'direction'] as const,
  registers: [metricsRegistry],
});

export const modelCostUsd = new Counter({
  name: 'troupe_model_cost_usd_total',
  help: 'Cost of model calls in USD, by model',
  labelNames: ['model'] as const,
  registers: [metricsRegistry],
});

export const modelCircuitState = new Gauge({
  name: 'troupe_model_circuit_state',
  help: 'Circuit breaker per model: 0 closed, 1 half-open, 2 open',
  labelNames: ['model'] as const,
  registers: [metricsRegistry],
});

export const routingDecisions = new Counter({
  name: 'troupe_model_routing_decisions_total',
  help: 'Routing decisions (selected, fallback, escalated, skipped, merged, ...), by strategy',
  labelNames: ['strategy', 'action'] as const,
  registers: [metricsRegistry],
});

/** The process's Prometheus exposition (for tests and the benchmark). */
export const metricsRegistryText = () => metricsRegistry.metrics();
