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

// The OpenTelemetry GenAI client metrics (semantic conventions v1.41), under the names an OTLP →
// Prometheus translation gives them, with the buckets the conventions recommend.
export const genAiOperationDuration = new Histogram({
  name: 'gen_ai_client_operation_duration_seconds',
  help: 'gen_ai.client.operation.duration: GenAI operation duration',
  labelNames: ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'error_type'] as const,
  buckets: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92],
  registers: [metricsRegistry],
});

export const genAiTokenUsage = new Histogram({
  name: 'gen_ai_client_token_usage',
  help: 'gen_ai.client.token.usage: number of input and output tokens used',
  labelNames: ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_token_type'] as const,
  buckets: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864],
  registers: [metricsRegistry],
});

/** The process's Prometheus exposition (for tests and the benchmark). */
export const metricsRegistryText = () => metricsRegistry.metrics();
