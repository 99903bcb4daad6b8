import type { FailureReason, JobClassifiedV1, RepairState, StepResult } from '@troupe/contracts';
import type { GraphStep, StepState, WorkflowGraph } from '@troupe/workflow';

/** A job's graph execution as generation holds it (a row of `job_runs`, plus its compiled graph). */
export interface JobRun {
  jobId: string;
  tenantId: string;
  /** The job's context and classification, as job.classified (or the regenerate request) brought it. */
  job: JobClassifiedV1;
  graph: WorkflowGraph;
  /** The job's generation attempt: 1, then 2.. in the repair loop. */
  attempt: number;
  repair?: RepairState;
  /** The validation errors the repair loop asks to correct, given to the steps it runs again. */
  previousErrors?: FailureReason[];
  /** Trace context of the event that started this attempt: every step and event continues it. */
  traceHeaders: Record<string, string>;
  /** The event that started this attempt (the causation id of the events generation emits). */
  causationId?: string;
  /** When this attempt began (its generation's latency). */
  attemptStartedAt: Date;
  /** What every step run of the job has cost so far (before the progress being decided). */
  costUsd: number;
}

/** A step's row in `job_steps`. */
export interface StepRow {
  stepId: string;
  run: number;
  status: 'pending' | 'completed' | 'skipped' | 'failed' | 'cancelled' | 'stale';
  attempt: number;
  output?: unknown;
  result?: StepResult;
}

/** One step to execute: its job, the step, which run of it, and the upstream outputs it may read. */
export interface StepTask {
  run: JobRun;
  step: GraphStep;
  stepRun: number;
  states: ReadonlyMap<string, StepState>;
}

/** Where the graph stands, as the scheduler reads it (a stale step has not run in this attempt). */
export function statesOf(rows: Iterable<StepRow>): Map<string, StepState> {
  const states = new Map<string, StepState>();
  for (const r of rows) if (r.status !== 'stale') states.set(r.stepId, { phase: r.status, output: r.output });
  return states;
}
