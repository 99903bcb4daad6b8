import { performance } from 'node:perf_hooks';
import { Inject, Injectable } from '@nestjs/common';
import type { ModelStep, StepResult } from '@troupe/contracts';
import { CostWallet, ModelErrorKind, ModelRoutingError, sumCosts, type ModelRuntime } from '@troupe/models';
import {
  JsonSchemaValidator,
  scopeFor,
  stepInput,
  type ModelGraphStep,
  type TransformGraphStep,
} from '@troupe/workflow';
import { generationErrorCode, GenerationErrorCode } from '../generation/generation.exception';
import { MODEL_RUNTIME } from '../generation/model-runtime.provider';
import type { StepTask } from './job-run';

/**
 * Runs one step of a job's graph: a model step through the model layer (its plan, retries,
 * fallbacks, deadline), a transform by evaluating its expression. Never throws for the step's own
 * failure: the result says what happened (and what it cost), the executor records it.
 */
@Injectable()
export class StepRunner {
  private readonly schemas = new JsonSchemaValidator();
  /** Jobs' budget allowances in this process, by job id (oldest dropped first past the cap). */
  private readonly wallets = new Map<string, CostWallet>();

  constructor(@Inject(MODEL_RUNTIME) private readonly models: ModelRuntime) {}

  /** The plan a model step uses for the job's label, and the route's name. */
  plan(step: ModelGraphStep, label: string): { route: string; plan: ModelStep } {
    const route = label in step.plans ? label : 'default';
    return { route, plan: step.plans[route] };
  }

  async run(task: StepTask, signal?: AbortSignal): Promise<StepResult> {
    const started = performance.now();
    const base = {
      id: task.step.id,
      kind: task.step.kind,
      run: task.stepRun,
      startedAt: new Date().toISOString(),
    };
    const done: Finish = (r) => ({
      ...base,
      latencyMs: performance.now() - started,
      costUsd: 0,
      attempts: [],
      decisions: [],
      ...r,
    });
    return task.step.kind === 'model'
      ? this.runModel(task, task.step, signal, done)
      : this.runTransform(task, task.step, done);
  }

  private async runModel(
    task: StepTask,
    step: ModelGraphStep,
    signal: AbortSignal | undefined,
    done: Finish,
  ) {
    const { job, previousErrors } = task.run;
    const { route, plan } = this.plan(step, job.classification.label);
    let data: Record<string, unknown> | undefined;
    try {
      data = await stepInput(task.run.graph, step, facts(task), task.states);
    } catch (error) {
      return done({
        status: 'failed',
        code: GenerationErrorCode.STEP_INPUT_FAILED,
        reason: `input: ${(error as Error).message}`,
        route,
      });
    }
    const schema = step.outputSchema;
    try {
      const g = await this.models.router.run({
        route,
        step: plan,
        redact: task.run.graph.redact,
        data: { input: job.input, classification: job.classification, previousErrors, data },
        schema: step.promptSchema,
        attempt: task.stepRun,
        classifierConfidence: job.classification.confidence,
        deadlineMs: this.models.deadlineMs,
        jobDeadlineAt: job.deadlineAt ? Date.parse(job.deadlineAt) : undefined,
        signal,
        wallet: this.wallet(task),
        accept: schema ? (output) => describeViolations(this.schemas.validate(schema, output)) : undefined,
      });
      return done({
        status: 'completed',
        output: g.output,
        model: g.model,
        route,
        strategy: g.strategy,
        usage: g.usage,
        costUsd: g.costUsd,
        attempts: g.attempts,
        decisions: g.decisions,
        finishReason: g.finishReason,
        confidence: g.confidence,
        promptVersion: g.promptVersion,
        providerRequestId: g.providerRequestId,
      });
    } catch (error) {
      if (!(error instanceof ModelRoutingError)) throw error;
      const tried = error.attempts.map((a) => `${a.model}#${a.try} ${a.errorKind ?? a.outcome}`).join(', ');
      const reason =
        error.kind === ModelErrorKind.UNKNOWN_MODEL
          ? error.message
          : `${error.message}${tried ? ` (attempts: ${tried})` : ''}`;
      return done({
        status: error.kind === ModelErrorKind.CANCELLED ? 'cancelled' : 'failed',
        code: generationErrorCode(error.kind),
        reason,
        route,
        strategy: plan.strategy,
        costUsd: error.costUsd,
        attempts: error.attempts,
        decisions: error.decisions,
      });
    }
  }

  /**
   * The job's allowance, when it reserved against a budget: its reservation less the classifier's
   * cost and what its recorded step runs cost; calls made here since are counted by the wallet.
   */
  private wallet(task: StepTask): CostWallet | undefined {
    const { job } = task.run;
    if (!job.budget) return undefined;
    const recorded = sumCosts([job.classification.costUsd ?? 0, task.run.costUsd]);
    let wallet = this.wallets.get(job.jobId);
    if (!wallet || wallet.reservedUsd !== job.budget.reservedUsd) {
      wallet = new CostWallet(job.budget.reservedUsd, recorded);
      this.wallets.set(job.jobId, wallet);
      if (this.wallets.size > 10_000) this.wallets.delete(this.wallets.keys().next().value!);
    }
    wallet.atLeast(recorded);
    return wallet;
  }

  private async runTransform(task: StepTask, step: TransformGraphStep, done: Finish) {
    let output: unknown;
    try {
      output =
        (await step.expression.evaluate(scopeFor(task.run.graph, facts(task), task.states, step))) ?? null;
    } catch (error) {
      return done({
        status: 'failed',
        code: GenerationErrorCode.TRANSFORM_FAILED,
        reason: (error as Error).message,
      });
    }
    if (step.outputSchema) {
      const refusal = describeViolations(this.schemas.validate(step.outputSchema, output));
      if (refusal)
        return done({
          status: 'failed',
          code: GenerationErrorCode.STEP_OUTPUT_INVALID,
          reason: `the output ${refusal}`,
          output,
        });
    }
    return done({ status: 'completed', output });
  }
}

/** A step's result from what it did, with its timing and empty defaults filled in. */
type Finish = (result: Partial<StepResult> & Pick<StepResult, 'status'>) => StepResult;

const facts = (task: StepTask) => ({
  input: task.run.job.input,
  classification: task.run.job.classification,
  metadata: task.run.job.metadata,
});

/** Schema violations as one readable sentence; undefined when there are none. */
function describeViolations(violations: { message: string }[]): string | undefined {
  if (violations.length === 0) return undefined;
  return `does not match the step's output schema: ${violations.map((v) => v.message).join('; ')}`;
}
