import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '@troupe/telemetry';

export const webhookAttempts = new Counter({
  name: 'troupe_webhook_attempts_total',
  help: 'Webhook attempts once recorded, by outcome (delivered, retrying, failed: given up) and code (HTTP_503, WEBHOOK_TIMEOUT, ...; none when delivered)',
  labelNames: ['outcome', 'code'] as const,
  registers: [metricsRegistry],
});

export const webhookAttemptSeconds = new Histogram({
  name: 'troupe_webhook_attempt_duration_seconds',
  help: "Time from sending a webhook to the receiver's answer (or the failure), by outcome",
  labelNames: ['outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});
