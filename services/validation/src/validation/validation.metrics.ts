import { metricsRegistry } from '@troupe/telemetry';
import { Counter } from 'prom-client';

/** Verdicts by workflow: validated, regenerate, rejected, review (and the outcome of reviews and deadlines). */
export const validationVerdicts = new Counter({
  name: 'troupe_validation_verdicts_total',
  help: 'Validation verdicts by workflow and kind (validated, regenerate, rejected, review, review_*)',
  labelNames: ['workflow', 'verdict'] as const,
  registers: [metricsRegistry],
});

/** Why outputs fail or are flagged, by code (SCHEMA_*, POLICY_*, CONFIDENCE_*). */
export const validationFindings = new Counter({
  name: 'troupe_validation_findings_total',
  help: 'Gate failures and flagged findings by workflow and code',
  labelNames: ['workflow', 'code'] as const,
  registers: [metricsRegistry],
});
