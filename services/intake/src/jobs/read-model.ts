import {
  JOB_CLASSIFIED_V1,
  JOB_DELIVERED_V1,
  JOB_DELIVERY_ATTEMPTED_V1,
  JOB_DELIVERY_FAILED_V1,
  JOB_FAILED_V1,
  JOB_GENERATED_V1,
  JOB_REDELIVERY_REQUESTED_V1,
  JOB_REJECTED_V1,
  JOB_REQUESTED_V1,
  JOB_VALIDATED_V1,
  JOB_REGENERATE_REQUESTED_V1,
  JOB_REVIEW_EXPIRED_V1,
  JOB_REVIEW_REQUESTED_V1,
  JOB_STEP_COMPLETED_V1,
  JOB_CANCEL_REQUESTED_V1,
  JOB_CANCELLED_V1,
  REVIEW_DECIDED_V1,
  JOB_COST_RECORDED_V1,
  BUDGET_THRESHOLD_CROSSED_V1,
  JOB_DATA_ERASE_REQUESTED_V1,
  type EventData,
  type EventType,
  type FailureReason,
  type JobStatus,
  type RoutingDecision,
  type StepResult,
} from '@troupe/contracts';

/** What one event changes in the job read model. */
export interface JobProjection {
  /** Applied only when `rank` is above the job's current rank: events of different topics may arrive out of order. */
  status?: JobStatus;
  rank: number;
  outcome?: 'succeeded' | 'rejected' | 'failed' | 'cancelled';
  result?: unknown;
  errors?: FailureReason[];
  costUsd?: number;
  /** The classification label (job.classified). */
  label?: string;
  /** Step results by id, from step events (they replace what the job shows of those steps). */
  steps?: Record<string, unknown>;
  /** Step summaries by id, from job.generated (they fill in steps no step event reported). */
  stepSummaries?: Record<string, unknown>;
  summary: string;
}

export const STATUS_RANK: Record<JobStatus, number> = {
  requested: 0,
  classified: 1,
  generated: 2,
  // Between generated and the outcome (status_rank is a double precision column for this).
  awaiting_review: 2.5,
  validated: 3,
  rejected: 3,
  delivery_failed: 4,
  failed: 4,
  delivered: 5,
  // Delivery emits job.cancelled only when no outcome was delivered, and delivers none after it.
  cancelled: 6,
};

const pct = (n: number) => `${Math.round(n * 100)}%`;
const usd = (n: number) => `$${n.toFixed(6)}`;

/** Why this model: the routing decisions other than the final pick, e.g. a fallback's cause. */
function routing(decisions: RoutingDecision[]): string {
  return decisions.length > 1 || (decisions[0] && decisions[0].action !== 'selected')
    ? `; ${decisions.map((d) => `${d.action} ${d.model}: ${d.reason}`).join('; ')}`
    : '';
}

/** A step's timeline line: what it did, with what, how long, for how much, and why. */
export function stepSummary(step: StepResult): string {
  const head = `step ${step.id} (${step.kind}${step.run > 1 ? `, run ${step.run}` : ''})`;
  switch (step.status) {
    case 'completed':
      return step.kind === 'model'
        ? `${head} completed by ${step.model} via route ${step.route} in ${Math.round(step.latencyMs)} ms, ${usd(step.costUsd)}${routing(step.decisions)}`
        : `${head} completed in ${Math.round(step.latencyMs)} ms`;
    case 'skipped':
      return `${head} skipped: ${step.reason}`;
    case 'failed':
      return `${head} failed${step.code ? ` (${step.code})` : ''}: ${step.reason}`;
    case 'cancelled':
      return `${head} cancelled: ${step.reason}`;
  }
}


/**
 * The event another follows in a job's story, which the read model must show first: a stage's event
 * is about what the stage before it emitted, but the two come from different topics and may reach
 * intake in either order (the webhook's `job.delivered` before the `job.validated` it delivers).
 * `{ rank }`: the job must have reached that status; `'outcome'`: it must have an outcome.
 */
export function follows(type: string): { rank: number } | 'outcome' | undefined {
  switch (type) {
    case JOB_GENERATED_V1:
    case JOB_STEP_COMPLETED_V1:
      return { rank: STATUS_RANK.classified };
    case JOB_VALIDATED_V1:
    case JOB_REJECTED_V1:
    case JOB_REVIEW_REQUESTED_V1:
    case JOB_REGENERATE_REQUESTED_V1:
      return { rank: STATUS_RANK.generated };
    case JOB_DELIVERY_ATTEMPTED_V1:
    case JOB_DELIVERED_V1:
    case JOB_DELIVERY_FAILED_V1:
      return 'outcome';
    default:
      return undefined;
  }
}

export function projectEvent(type: EventType, data: unknown): JobProjection {
  switch (type) {
    case JOB_REQUESTED_V1: {
      const d = data as EventData<typeof JOB_REQUESTED_V1>;
      const shadow = d.shadow ? `; a shadow of job ${d.shadow.originalJobId} for replay ${d.shadow.replayId}, delivered nowhere` : '';
      return { status: 'requested', rank: 0, summary: `requested with workflow ${d.workflow.id} v${d.workflow.version}${shadow}` };
    }
    case JOB_CLASSIFIED_V1: {
      const c = (data as EventData<typeof JOB_CLASSIFIED_V1>).classification;
      return {
        status: 'classified',
        rank: 1,
        label: c.label,
        summary: `classified as ${c.label} (${pct(c.confidence)}; language ${c.language}; sentiment ${c.sentiment.label}) by ${c.model}`,
      };
    }
    case JOB_GENERATED_V1: {
      const d = data as EventData<typeof JOB_GENERATED_V1>;
      const g = d.generation;
      const steps = d.steps ?? [];
      const tokens = `${g.usage.inputTokens}+${g.usage.outputTokens} tokens`;
      return {
        status: 'generated',
        rank: 2,
        stepSummaries: Object.fromEntries(steps.map((s) => [s.id, s])),
        summary:
          steps.length > 1
            ? `generated by ${steps.length} steps (${countBy(steps.map((s) => s.status))}) in ${Math.round(g.latencyMs)} ms (${tokens}, ${usd(g.costUsd)} so far)`
            : `generated by ${g.model} via route ${g.route} in ${Math.round(g.latencyMs)} ms (${tokens})${routing(g.decisions)}`,
      };
    }
    case JOB_STEP_COMPLETED_V1: {
      const d = data as EventData<typeof JOB_STEP_COMPLETED_V1>;
      return { rank: -1, steps: { [d.step.id]: d.step }, summary: stepSummary(d.step) };
    }
    case JOB_CANCEL_REQUESTED_V1: {
      const d = data as EventData<typeof JOB_CANCEL_REQUESTED_V1>;
      return { rank: -1, summary: `cancel requested by ${d.requestedBy}${d.reason ? `: ${d.reason}` : ''}` };
    }
    case JOB_CANCELLED_V1: {
      const d = data as EventData<typeof JOB_CANCELLED_V1>;
      return {
        status: 'cancelled',
        rank: STATUS_RANK.cancelled,
        outcome: 'cancelled',
        summary: `cancelled as ${d.requestedBy} asked; no result will be delivered`,
      };
    }
    case JOB_VALIDATED_V1: {
      const d = data as EventData<typeof JOB_VALIDATED_V1>;
      return {
        status: 'validated',
        rank: 3,
        outcome: 'succeeded',
        result: d.output,
        summary: d.wouldReview
          ? `output passed validation; not held (a shadow job), though the review rules would have held it (${d.wouldReview.heldBecause.join('; ')})`
          : 'output passed validation',
      };
    }
    case JOB_REJECTED_V1: {
      const d = data as EventData<typeof JOB_REJECTED_V1>;
      return {
        status: 'rejected',
        rank: 3,
        outcome: 'rejected',
        errors: d.reasons,
        summary: `output rejected: ${d.reasons.map((r) => r.code).join(', ')}`,
      };
    }
    case JOB_DELIVERY_ATTEMPTED_V1: {
      const d = data as EventData<typeof JOB_DELIVERY_ATTEMPTED_V1>;
      const status = d.statusCode ? `HTTP ${d.statusCode}` : (d.error ?? 'no response');
      return { rank: -1, summary: `webhook attempt ${d.attempt} ${d.outcome} (${status}, ${Math.round(d.latencyMs)} ms)` };
    }
    case JOB_DELIVERED_V1: {
      const d = data as EventData<typeof JOB_DELIVERED_V1>;
      // A failed or cancelled job's notification was delivered: the job stays failed or cancelled.
      if (d.outcome === 'failed' || d.outcome === 'cancelled') {
        return { rank: -1, summary: `${d.outcome === 'failed' ? 'failure' : 'cancellation'} notification delivered by ${d.channel} after ${d.attempts} attempt(s)` };
      }
      // With a webhook still to come, the webhook's outcome decides the status.
      if (d.channel === 'topic' && d.webhookPending) return { rank: -1, summary: `published to ${d.topic}` };
      if (d.channel === 'topic') return { status: 'delivered', rank: 5, summary: `published to ${d.topic}` };
      return {
        status: 'delivered',
        rank: 5,
        summary:
          d.channel === 'webhook'
            ? `delivered to webhook after ${d.attempts} attempt(s)`
            : 'no webhook target; result ready to be read',
      };
    }
    case JOB_DELIVERY_FAILED_V1: {
      const d = data as EventData<typeof JOB_DELIVERY_FAILED_V1>;
      const summary = `delivery failed after ${d.attempts} attempt(s): ${d.reason}${d.targetDisabled ? ' (target disabled)' : ''}`;
      // A failed job whose notification could not be sent stays failed (equal rank does not move it).
      return { status: 'delivery_failed', rank: 4, summary };
    }
    case JOB_REDELIVERY_REQUESTED_V1: {
      const d = data as EventData<typeof JOB_REDELIVERY_REQUESTED_V1>;
      return { rank: -1, summary: `redelivery requested by ${d.requestedBy}` };
    }
    case JOB_REGENERATE_REQUESTED_V1: {
      const d = data as EventData<typeof JOB_REGENERATE_REQUESTED_V1>;
      const failed = d.repair.history[d.repair.history.length - 1];
      return {
        rank: -1,
        summary: `attempt ${failed.attempt} failed validation (${failed.reasons.map((r) => r.code).join(', ')}); regeneration requested (attempt ${d.repair.attempt} of ${d.workflow.validation.repair.maxAttempts})`,
      };
    }
    case JOB_REVIEW_REQUESTED_V1: {
      const d = data as EventData<typeof JOB_REVIEW_REQUESTED_V1>;
      return {
        status: 'awaiting_review',
        rank: STATUS_RANK.awaiting_review,
        summary: `held for review (${d.heldBecause.join('; ')}) until ${d.dueAt}`,
      };
    }
    case REVIEW_DECIDED_V1: {
      const d = data as EventData<typeof REVIEW_DECIDED_V1>;
      const verb = { approve: 'approved', edit: 'edited and approved', reject: 'rejected' }[d.decision];
      return {
        rank: -1,
        summary: `review ${verb} by ${d.reviewer.role} key ${d.reviewer.keyId} at ${d.decidedAt}${d.comment ? `: ${d.comment}` : ''}`,
      };
    }
    case JOB_REVIEW_EXPIRED_V1: {
      const d = data as EventData<typeof JOB_REVIEW_EXPIRED_V1>;
      return {
        rank: -1,
        summary: `review deadline ${d.dueAt} passed: ${d.action === 'reject' ? 'rejected' : 'escalated to an admin'}`,
      };
    }
    case JOB_COST_RECORDED_V1: {
      // The job's cost is the ledger's sum (jobs.cost_usd, kept by the cost ledger), not a projection.
      const d = data as EventData<typeof JOB_COST_RECORDED_V1>;
      const cost = d.calls.reduce((sum, c) => sum + Math.round(c.costUsd * 1e12), 0) / 1e12;
      const calls = d.calls.map((c) => `${c.step ? `${c.step}${c.stepRun && c.stepRun > 1 ? ` run ${c.stepRun}` : ''}: ` : ''}${c.model}#${c.try} ${c.outcome === 'failed' ? (c.errorKind ?? 'failed') : 'ok'} ${usd(c.costUsd)}`);
      return { rank: -1, summary: `${d.calls.length} model call(s) by ${d.stage} cost ${usd(cost)} (${calls.join('; ')})` };
    }
    case BUDGET_THRESHOLD_CROSSED_V1: {
      const d = data as EventData<typeof BUDGET_THRESHOLD_CROSSED_V1>;
      return { rank: -1, summary: `budget ${d.budget.name} passed ${pct(d.threshold)} of $${d.limitUsd} ($${d.spentUsd} spent)` };
    }
    case JOB_DATA_ERASE_REQUESTED_V1: {
      // Intake erased its copy when it emitted this; the line says that it happened, not what.
      const d = data as EventData<typeof JOB_DATA_ERASE_REQUESTED_V1>;
      return { rank: -1, summary: d.reason === 'retention' ? 'payloads erased: the retention period passed' : `payloads erased as ${d.requestedBy} asked` };
    }
    case JOB_FAILED_V1: {
      const d = data as EventData<typeof JOB_FAILED_V1>;
      return {
        status: 'failed',
        rank: 4,
        outcome: 'failed',
        errors: [{ code: d.code, message: d.reason }],
        summary: `failed in ${d.stage}: ${d.code}`,
      };
    }
  }
}

/** `2 completed, 1 skipped`. */
function countBy(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${n} ${v}`).join(', ');
}
