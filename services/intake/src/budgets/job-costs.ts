import {
  JOB_CANCELLED_V1,
  JOB_CLASSIFIED_V1,
  JOB_COST_RECORDED_V1,
  JOB_DELIVERED_V1,
  JOB_DELIVERY_FAILED_V1,
  JOB_FAILED_V1,
  JOB_GENERATED_V1,
  JOB_REJECTED_V1,
  JOB_VALIDATED_V1,
  type EventData,
  type EventType,
} from '@troupe/contracts';
import { sumCosts } from '@troupe/models';
import type { CostLedgerBatch } from './cost-ledger.batch';

/** Events after which no model call is made for the job: its budget reservation can be settled. */
const ENDS_MODEL_WORK = new Set<EventType>([JOB_VALIDATED_V1, JOB_REJECTED_V1, JOB_FAILED_V1, JOB_CANCELLED_V1, JOB_DELIVERED_V1, JOB_DELIVERY_FAILED_V1]);

/**
 * What a job event tells the cost ledger: the model calls it reports (the LLM classifier's in
 * job.classified, every stage's in job.cost-recorded), what the job has cost in all so far by the
 * emitter's count (the settlement waits until the ledger holds it), and whether the model work is over.
 */
export function recordCost(type: EventType, data: unknown, eventId: string, ledger: CostLedgerBatch): void {
  const jobId = (data as { jobId: string }).jobId;
  if (type === JOB_COST_RECORDED_V1) {
    const d = data as EventData<typeof JOB_COST_RECORDED_V1>;
    ledger.calls(
      d.calls.map((c, idx) => ({
        eventId,
        idx,
        jobId,
        stage: d.stage,
        step: c.step,
        stepRun: c.stepRun,
        generationAttempt: c.generationAttempt,
        model: c.model,
        try: c.try,
        outcome: c.outcome,
        errorKind: c.errorKind,
        inputTokens: c.usage?.inputTokens ?? 0,
        outputTokens: c.usage?.outputTokens ?? 0,
        costUsd: c.costUsd,
        latencyMs: c.latencyMs,
      })),
    );
  }
  if (type === JOB_CLASSIFIED_V1) {
    const c = (data as EventData<typeof JOB_CLASSIFIED_V1>).classification;
    ledger.calls(
      (c.attempts ?? []).map((a, idx) => ({
        eventId,
        idx,
        jobId,
        stage: 'classification',
        model: a.model,
        try: a.try,
        outcome: a.outcome,
        errorKind: a.errorKind,
        inputTokens: a.usage?.inputTokens ?? 0,
        outputTokens: a.usage?.outputTokens ?? 0,
        costUsd: a.costUsd,
        latencyMs: a.latencyMs,
      })),
    );
    if (c.costUsd) ledger.expect(jobId, c.costUsd);
  }
  if (type === JOB_GENERATED_V1 || type === JOB_VALIDATED_V1 || type === JOB_REJECTED_V1) {
    const d = data as EventData<typeof JOB_GENERATED_V1>;
    ledger.expect(jobId, sumCosts([d.classification.costUsd ?? 0, d.generation.costUsd]));
  }
  if (type === JOB_FAILED_V1) {
    const d = data as EventData<typeof JOB_FAILED_V1>;
    if (d.costUsd !== undefined) ledger.expect(jobId, d.costUsd);
  }
  if (ENDS_MODEL_WORK.has(type)) ledger.end(jobId);
}
