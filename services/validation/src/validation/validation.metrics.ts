import type { JobGeneratedV1 } from '@troupe/contracts';
import { metricsRegistry } from '@troupe/telemetry';
import { Counter } from 'prom-client';
import type { Verdict } from './validation.service';

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

/**
 * Counts a verdict and the codes of this attempt's failures (or flagged findings). Counted per
 * processing, so a chunk retried after a database error counts twice: a rate, not a ledger.
 */
export function countVerdict(job: JobGeneratedV1, verdict: Verdict): void {
  const workflow = job.workflow.id;
  validationVerdicts.inc({ workflow, verdict: verdict.kind });
  const attempt = job.repair?.attempt ?? 1;
  const codes =
    verdict.kind === 'regenerate'
      ? verdict.repair.history[verdict.repair.history.length - 1].reasons
      : verdict.kind === 'rejected'
        ? verdict.reasons.filter((r) => (r.attempt ?? attempt) === attempt)
        : verdict.kind === 'review'
          ? verdict.review.findings
          : [];
  for (const r of codes) validationFindings.inc({ workflow, code: r.code });
}
