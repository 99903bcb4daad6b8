import { Injectable } from '@nestjs/common';
import {
  JOB_FAILED_V1,
  JOB_GENERATED_V1,
  JOB_STEP_COMPLETED_V1,
  type Generation,
  type OutgoingEvent,
  type RoutingDecision,
  type StepResult,
  type StepSummary,
} from '@troupe/contracts';
import { sumCosts } from '@troupe/models';
import { advance, graphOutput, type GraphStep } from '@troupe/workflow';
import { GenerationErrorCode } from '../generation/generation.exception';
import { statesOf, type JobRun, type StepRow, type StepTask } from './job-run';

export type RunStatus = 'running' | 'generated' | 'failed' | 'cancelled';

/** A write to a step's row: a new run scheduled (`pending`, leased to this executor), skipped, failed, cancelled. */
export interface StepWrite {
  jobId: string;
  stepId: string;
  run: number;
  status: StepRow['status'];
  attempt: number;
  output?: unknown;
  result?: StepResult;
}

/** One model attempt, for the `generations` table (cost accounting per job, step and model). */
export interface AttemptRow {
  jobId: string;
  tenantId: string;
  workflowId: string;
  workflowVersion: number;
  stepId: string;
  stepRun: number;
  route: string;
  strategy?: string;
  generationAttempt: number;
  chosenModel?: string;
  attempt: StepResult['attempts'][number];
}

/** What a change in a job's graph leads to; the caller writes it in its transaction, then starts `start`. */
export interface Progress {
  steps: StepWrite[];
  /** The run's new status, when it changed. */
  status?: RunStatus;
  /** Cost of the step runs recorded now, added to the run's total. */
  costUsd: number;
  events: OutgoingEvent[];
  attempts: AttemptRow[];
  /** Steps to execute once the transaction has committed. */
  start: StepTask[];
  /** The job failed: stop its other steps running in this process. */
  abortOthers: boolean;
}

/** The number of a step's next run: 1, or one more than its last (the repair loop runs steps again). */
const nextRun = (rows: Map<string, StepRow>, stepId: string) => (rows.get(stepId)?.run ?? 0) + 1;

const facts = (run: JobRun) => ({ input: run.job.input, classification: run.job.classification, metadata: run.job.metadata });

/**
 * The rules of a job's graph, applied to where it stands: record the steps that just finished,
 * then start the steps that became ready, skip those whose `when` is false (or that need only
 * skipped steps), fail the job when a step failed, and when every step is done build the job's
 * output and emit `job.generated`. No database, no Kafka: the caller persists the Progress.
 */
@Injectable()
export class GraphProgress {
  /**
   * @param rows every step row of the job as it stands in this transaction (finished ones updated)
   * @param finished the step results recorded now (they are in `rows` already)
   */
  async settle(run: JobRun, rows: Map<string, StepRow>, finished: StepResult[]): Promise<Progress> {
    const p: Progress = { steps: [], costUsd: sumCosts(finished.map((r) => r.costUsd)), events: [], attempts: [], start: [], abortOthers: false };
    const multi = run.graph.steps.length > 1;
    const report = (result: StepResult) => {
      if (multi) p.events.push(this.stepCompleted(run, result));
    };
    for (const result of finished) {
      p.attempts.push(...this.attemptsOf(run, result));
      report(result);
    }
    const failure = finished.find((r) => r.status === 'failed');
    if (failure) return this.fail(run, rows, failure, p);

    const next = await advance(run.graph, facts(run), statesOf(rows.values()));
    if (next.failed) {
      const step = next.failed.step;
      const result = this.unrun(step, 'failed', next.failed.reason, nextRun(rows, step.id), GenerationErrorCode.CONDITION_FAILED);
      p.steps.push(this.write(run, result));
      rows.set(result.id, { stepId: result.id, run: result.run, status: 'failed', attempt: run.attempt, result });
      report(result);
      return this.fail(run, rows, result, p);
    }
    for (const { step, reason } of next.skipped) {
      const result = this.unrun(step, 'skipped', reason, nextRun(rows, step.id));
      p.steps.push(this.write(run, result));
      rows.set(step.id, { stepId: step.id, run: result.run, status: 'skipped', attempt: run.attempt, result });
      report(result);
    }
    const states = statesOf(rows.values());
    for (const step of next.ready) {
      const stepRun = nextRun(rows, step.id);
      p.steps.push({ jobId: run.jobId, stepId: step.id, run: stepRun, status: 'pending', attempt: run.attempt });
      p.start.push({ run, step, stepRun, states });
    }
    if (next.complete) {
      p.events.push(await this.generated(run, rows, p.costUsd));
      p.status = 'generated';
    }
    return p;
  }

  /** The run's total cost after this progress. */
  private total(run: JobRun, delta: number): number {
    return sumCosts([run.costUsd, delta]);
  }

  private fail(run: JobRun, rows: Map<string, StepRow>, failure: StepResult, p: Progress): Progress {
    const multi = run.graph.steps.length > 1;
    // Siblings still running are called off: the job has failed whatever they answer.
    for (const row of rows.values()) {
      if (row.status !== 'pending') continue;
      const step = run.graph.byId.get(row.stepId)!;
      const result = this.unrun(step, 'cancelled', `step ${failure.id} failed`, row.run);
      p.steps.push(this.write(run, result));
      if (multi) p.events.push(this.stepCompleted(run, result));
      p.abortOthers = true;
    }
    p.events.push({
      type: JOB_FAILED_V1,
      data: {
        jobId: run.jobId,
        tenantId: run.tenantId,
        stage: 'generation',
        code: failure.code ?? GenerationErrorCode.MODELS_UNAVAILABLE,
        reason: multi ? `step ${failure.id}: ${failure.reason ?? failure.status}` : (failure.reason ?? failure.status),
        step: multi ? failure.id : undefined,
        webhook: run.job.webhook,
        workflow: { id: run.job.workflow.id, version: run.job.workflow.version },
        metadata: run.job.metadata,
        costUsd: sumCosts([run.job.classification.costUsd ?? 0, this.total(run, p.costUsd)]),
      },
    });
    p.status = 'failed';
    p.start = [];
    return p;
  }

  /** The result of a step that did not run (skipped, failed before running, called off). */
  private unrun(step: GraphStep, status: StepResult['status'], reason: string, stepRun: number, code?: string): StepResult {
    return {
      id: step.id,
      kind: step.kind,
      status,
      run: stepRun,
      reason,
      code,
      latencyMs: 0,
      costUsd: 0,
      attempts: [],
      decisions: [],
    };
  }

  private write(run: JobRun, result: StepResult): StepWrite {
    return { jobId: run.jobId, stepId: result.id, run: result.run, status: result.status, attempt: run.attempt, output: result.output, result };
  }

  private stepCompleted(run: JobRun, step: StepResult): OutgoingEvent {
    return {
      type: JOB_STEP_COMPLETED_V1,
      data: {
        jobId: run.jobId,
        tenantId: run.tenantId,
        workflow: { id: run.job.workflow.id, version: run.job.workflow.version },
        attempt: run.attempt,
        step,
      },
    };
  }

  /** The model attempts of a step run, for cost accounting. */
  attemptsOf(run: JobRun, result: StepResult): AttemptRow[] {
    return result.attempts.map((attempt) => ({
      jobId: run.jobId,
      tenantId: run.tenantId,
      workflowId: run.job.workflow.id,
      workflowVersion: run.job.workflow.version,
      stepId: result.id,
      stepRun: result.run,
      route: result.route ?? 'default',
      strategy: result.strategy,
      generationAttempt: run.attempt,
      chosenModel: result.status === 'completed' ? result.model : undefined,
      attempt,
    }));
  }

  /** The job's output and its generation: one step's own, or every step of this attempt summed. */
  private async generated(run: JobRun, rows: Map<string, StepRow>, delta: number): Promise<OutgoingEvent> {
    const results = run.graph.steps.map((s) => rows.get(s.id)?.result).filter((r): r is StepResult => !!r);
    const output = await graphOutput(run.graph, facts(run), statesOf(rows.values()));
    const ranNow = results.filter((r) => r.status === 'completed' && rows.get(r.id)?.attempt === run.attempt);
    const costUsd = this.total(run, delta);
    let generation: Generation;
    if (run.graph.steps.length === 1) {
      const r = results[0];
      generation = {
        model: r.model ?? 'none',
        route: r.route ?? 'default',
        output,
        finishReason: r.finishReason ?? 'stop',
        usage: r.usage ?? { inputTokens: 0, outputTokens: 0 },
        costUsd,
        latencyMs: r.latencyMs,
        strategy: r.strategy,
        confidence: r.confidence,
        promptVersion: r.promptVersion,
        attempt: run.attempt,
        providerRequestId: r.providerRequestId,
        attempts: r.attempts,
        decisions: r.decisions,
      };
    } else {
      const models = [...new Set(ranNow.map((r) => r.model).filter((m): m is string => !!m))];
      const confidences = ranNow.map((r) => r.confidence).filter((c): c is number => c !== undefined);
      generation = {
        model: models.join(', ') || 'none',
        route: 'steps',
        output,
        finishReason: 'stop',
        usage: {
          inputTokens: ranNow.reduce((n, r) => n + (r.usage?.inputTokens ?? 0), 0),
          outputTokens: ranNow.reduce((n, r) => n + (r.usage?.outputTokens ?? 0), 0),
        },
        costUsd,
        latencyMs: Date.now() - run.attemptStartedAt.getTime(),
        strategy: 'steps',
        // The least sure model step gates the whole output.
        confidence: confidences.length ? Math.min(...confidences) : undefined,
        attempt: run.attempt,
        attempts: ranNow.flatMap((r) => r.attempts),
        decisions: ranNow.flatMap((r) => r.decisions.map((d): RoutingDecision => ({ ...d, reason: `[${r.id}] ${d.reason}` }))),
      };
    }
    const steps: StepSummary[] = results.map(({ output: _o, attempts: _a, decisions: _d, finishReason: _f, confidence: _c, promptVersion: _p, providerRequestId: _r, ...summary }) => summary);
    return {
      type: JOB_GENERATED_V1,
      data: { ...run.job, generation, steps, ...(run.repair ? { repair: run.repair } : {}) },
    };
  }
}
