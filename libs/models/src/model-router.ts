import { performance } from 'node:perf_hooks';
import type { Generation, ModelAttempt, ModelStep, PlanCandidate, RedactionKind, RoutingDecision } from '@troupe/contracts';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { sumCosts } from './cost';
import type { ModelRequest } from './model-adapter';
import type { CallResult, ModelClient } from './model-client';
import type { CostWallet } from './cost-wallet';
import { ModelError, ModelErrorKind } from './model-error';
import { routingDecisions } from './model-metrics';
import { buildPrompt, type PromptData } from './prompt';

export interface RouteRequest {
  route: string;
  step: ModelStep;
  data: PromptData;
  /** Personal data kept from third-party providers (the workflow's `privacy.redact`). */
  redact?: readonly RedactionKind[];
  /** The workflow's output schema: sent to JSON-capable models, used by `first-valid` and `fields` merges. */
  schema?: Record<string, unknown>;
  /** 1 for a job's first generation; a regeneration starts a cascade one tier higher per attempt. */
  attempt?: number;
  /** The classifier's confidence: a cascade skips its cheapest tier when this is below the threshold. */
  classifierConfidence?: number;
  /** Deadline for the whole step when the step does not set one. */
  deadlineMs: number;
  /** The job's own deadline (epoch ms): caps the step's, whichever comes first. */
  jobDeadlineAt?: number;
  /**
   * Aborts the whole step from outside (the job's cancellation, the service shutting down): calls in
   * flight are cancelled. A ModelError as the abort reason is what the step fails with.
   */
  signal?: AbortSignal;
  /**
   * Checks an answer (e.g. against the step's output schema): a message says why it is refused, and
   * the plan treats the answer as a failure of that model (OUTPUT_INVALID: a fallback moves on).
   */
  accept?: (output: unknown) => string | undefined;
  /** The job's budget allowance, shared by every call of the job in this process. */
  wallet?: CostWallet;
}

/** No model of the plan produced an output; carries everything that was tried, for the job's record. */
export class ModelRoutingError extends Error {
  constructor(
    readonly kind: ModelErrorKind,
    message: string,
    readonly attempts: ModelAttempt[],
    readonly decisions: RoutingDecision[],
  ) {
    super(message);
    this.name = 'ModelRoutingError';
  }

  get costUsd(): number {
    return sumCosts(this.attempts.map((a) => a.costUsd));
  }
}

interface Run {
  request: RouteRequest;
  attempts: ModelAttempt[];
  decisions: RoutingDecision[];
  deadline: AbortSignal;
  deadlineAt: number;
  started: number;
}

const ajv = new Ajv2020({ strict: false, allErrors: false });
const validators = new WeakMap<object, ValidateFunction | null>();
function validatorFor(schema?: Record<string, unknown>): ValidateFunction | null {
  if (!schema) return null;
  if (!validators.has(schema)) {
    try {
      validators.set(schema, ajv.compile(schema));
    } catch {
      validators.set(schema, null); // a schema Ajv cannot compile is validation's problem, not routing's
    }
  }
  return validators.get(schema) ?? null;
}

const describe = (e: ModelError) => `${e.kind}: ${e.message}`;

/**
 * Executes a route's plan (single, fallback, cascade, parallel, weighted) through the model
 * client and returns the generation with every attempt and the reason for each routing decision.
 */
export class ModelRouter {
  constructor(
    private readonly client: ModelClient,
    /** Injectable for tests of the weighted balance. */
    private readonly random: () => number = Math.random,
  ) {}

  async run(request: RouteRequest): Promise<Generation> {
    const { step } = request;
    const deadline = new AbortController();
    const stepMs = step.deadlineMs ?? request.deadlineMs;
    // A job past its deadline gets no more model calls: the first candidate fails DEADLINE_EXCEEDED.
    const deadlineMs =
      request.jobDeadlineAt === undefined ? stepMs : Math.max(0, Math.min(stepMs, request.jobDeadlineAt - Date.now()));
    // Already past (a job's deadline): abort now, before any call starts, not on the next tick.
    if (deadlineMs <= 0) deadline.abort();
    const deadlineTimer = deadlineMs > 0 ? setTimeout(() => deadline.abort(), deadlineMs) : undefined;
    const cancel = () =>
      deadline.abort(
        request.signal?.reason instanceof ModelError
          ? request.signal.reason
          : new ModelError(ModelErrorKind.CANCELLED, 'the step was cancelled (shutting down)'),
      );
    if (request.signal?.aborted) cancel();
    request.signal?.addEventListener('abort', cancel, { once: true });
    const started = performance.now();
    const run: Run = {
      request,
      attempts: [],
      decisions: [],
      deadline: deadline.signal,
      deadlineAt: started + deadlineMs,
      started,
    };
    const candidates: PlanCandidate[] =
      step.strategy === 'single' ? [{ model: step.model!, weight: 1 }] : step.models!;
    let result: { call: CallResult; model: string; output: unknown } | undefined;
    try {
      switch (step.strategy) {
        case 'single':
          result = await this.single(run, candidates[0]);
          break;
        case 'fallback':
          result = await this.fallback(run, candidates);
          break;
        case 'cascade':
          result = await this.cascade(run, candidates);
          break;
        case 'parallel':
          result = await this.parallel(run, candidates);
          break;
        case 'weighted':
          result = await this.weighted(run, candidates);
          break;
      }
    } finally {
      clearTimeout(deadlineTimer);
      request.signal?.removeEventListener('abort', cancel);
      for (const d of run.decisions) routingDecisions.inc({ strategy: step.strategy, action: d.action });
    }
    const succeeded = run.attempts.filter((a) => a.usage);
    return {
      model: result.model,
      route: request.route,
      output: this.finalOutput(result.output, request.schema),
      finishReason: result.call.response.finishReason,
      usage: {
        inputTokens: succeeded.reduce((n, a) => n + a.usage!.inputTokens, 0),
        outputTokens: succeeded.reduce((n, a) => n + a.usage!.outputTokens, 0),
      },
      costUsd: sumCosts(run.attempts.map((a) => a.costUsd)),
      latencyMs: performance.now() - run.started,
      strategy: step.strategy,
      confidence: result.call.confidence,
      promptVersion: step.promptVersion,
      attempt: request.attempt ?? 1,
      providerRequestId: result.call.response.providerRequestId,
      attempts: run.attempts,
      decisions: run.decisions,
    };
  }

  private prompt(run: Run, candidate: PlanCandidate): ModelRequest {
    const { step, data, schema } = run.request;
    const { system, user } = buildPrompt(
      {
        instructions: candidate.instructions ?? step.instructions,
        version: step.promptVersion,
        schema: step.json ? schema : undefined,
        askConfidence: step.strategy === 'cascade',
      },
      data,
    );
    const params = { ...step.params, ...(candidate.params ?? {}) };
    return {
      system,
      user,
      json: step.json,
      maxOutputTokens: typeof params.maxOutputTokens === 'number' ? params.maxOutputTokens : undefined,
      temperature: typeof params.temperature === 'number' ? params.temperature : undefined,
      input: data.data ? { text: typeof data.data.text === 'string' ? data.data.text : JSON.stringify(data.data) } : data.input,
      data: data.data,
      classification: data.classification as ModelRequest['classification'],
      previousErrors: data.previousErrors,
      params,
      redact: run.request.redact,
    };
  }

  private call(run: Run, candidate: PlanCandidate, signal: AbortSignal = run.deadline): Promise<CallResult> {
    if (signal.aborted) {
      return Promise.reject(
        new ModelError(
          ModelErrorKind.DEADLINE_EXCEEDED,
          `the step's deadline passed before ${candidate.model} was called`,
        ),
      );
    }
    const called = this.client.call(candidate.model, this.prompt(run, candidate), {
      deadline: signal,
      deadlineAt: run.deadlineAt,
      timeoutMs: run.request.step.timeoutMs,
      attempts: run.attempts,
      wallet: run.request.wallet,
    });
    const accept = run.request.accept;
    if (!accept) return called;
    return called.then((call) => {
      const refusal = accept(this.finalOutput(call.response.output, run.request.schema));
      if (refusal === undefined) return call;
      // The call itself succeeded (and is paid for); its answer is what failed.
      const attempt = [...run.attempts].reverse().find((a) => a.model === candidate.model && a.outcome === 'succeeded');
      if (attempt) Object.assign(attempt, { outcome: 'failed', errorKind: ModelErrorKind.OUTPUT_INVALID, error: refusal });
      throw new ModelError(ModelErrorKind.OUTPUT_INVALID, `the answer of ${candidate.model} ${refusal}`);
    });
  }

  private fail(run: Run, error: unknown): never {
    const e =
      error instanceof ModelError
        ? error
        : new ModelError(ModelErrorKind.UNAVAILABLE, String((error as Error)?.message ?? error));
    throw new ModelRoutingError(e.kind, e.message, run.attempts, run.decisions);
  }

  private async single(run: Run, candidate: PlanCandidate) {
    try {
      const call = await this.call(run, candidate);
      run.decisions.push({ action: 'selected', model: candidate.model, reason: 'the route names one model' });
      return { call, model: candidate.model, output: call.response.output };
    } catch (error) {
      return this.fail(run, error);
    }
  }

  private async fallback(run: Run, candidates: PlanCandidate[], first = 'first in the fallback chain') {
    let reason = first;
    for (let i = 0; i < candidates.length; i++) {
      try {
        const call = await this.call(run, candidates[i]);
        run.decisions.push({ action: 'selected', model: candidates[i].model, reason });
        return { call, model: candidates[i].model, output: call.response.output };
      } catch (error) {
        const e = error as ModelError;
        const next = candidates[i + 1];
        if (!next || !(e instanceof ModelError) || !e.fallbackable) return this.fail(run, e);
        reason = `${candidates[i].model} failed (${describe(e)})`;
        run.decisions.push({ action: 'fallback', model: next.model, reason });
      }
    }
    return this.fail(run, new ModelError(ModelErrorKind.UNAVAILABLE, 'no model in the chain'));
  }

  private async cascade(run: Run, tiers: PlanCandidate[]) {
    const { step, attempt = 1, classifierConfidence } = run.request;
    const threshold = step.escalateBelow;
    let start = 0;
    if (attempt > 1) {
      start = Math.min(attempt - 1, tiers.length - 1);
      run.decisions.push({
        action: 'escalated',
        model: tiers[start].model,
        reason: `regeneration attempt ${attempt}: starting at tier ${start + 1}`,
      });
    } else if (classifierConfidence !== undefined && classifierConfidence < threshold) {
      start = 1;
      run.decisions.push({
        action: 'skipped',
        model: tiers[0].model,
        reason: `classifier confidence ${classifierConfidence.toFixed(2)} is below ${threshold}: starting at ${tiers[1].model}`,
      });
    }
    let best: { call: CallResult; model: string; output: unknown } | undefined;
    for (let i = start; i < tiers.length; i++) {
      const tier = tiers[i];
      const next = tiers[i + 1];
      try {
        const call = await this.call(run, tier);
        const confidence = call.confidence;
        best = { call, model: tier.model, output: call.response.output };
        if (confidence === undefined) {
          run.decisions.push({
            action: 'accepted',
            model: tier.model,
            reason: 'the model reported no confidence',
          });
          return best;
        }
        if (confidence >= threshold) {
          run.decisions.push({
            action: 'accepted',
            model: tier.model,
            reason: `confidence ${confidence.toFixed(2)} >= ${threshold}`,
          });
          return best;
        }
        if (!next) {
          run.decisions.push({
            action: 'accepted',
            model: tier.model,
            reason: `confidence ${confidence.toFixed(2)} < ${threshold}, but it is the last tier`,
          });
          return best;
        }
        run.decisions.push({
          action: 'escalated',
          model: next.model,
          reason: `confidence ${confidence.toFixed(2)} from ${tier.model} is below ${threshold}`,
        });
      } catch (error) {
        const e = error as ModelError;
        if (next && e instanceof ModelError && e.fallbackable) {
          run.decisions.push({
            action: 'fallback',
            model: next.model,
            reason: `${tier.model} failed (${describe(e)})`,
          });
          continue;
        }
        if (best) {
          run.decisions.push({
            action: 'kept',
            model: best.model,
            reason: `escalation to ${tier.model} failed (${describe(e)}); keeping the lower tier's output`,
          });
          return best;
        }
        if (start > 0 && e instanceof ModelError && e.fallbackable) {
          // The tiers skipped at the start are still better than no answer.
          const lower = tiers.slice(0, start).reverse();
          run.decisions.push({
            action: 'fallback',
            model: lower[0].model,
            reason: `every higher tier failed (last: ${tier.model}, ${describe(e)})`,
          });
          return this.fallback(run, lower, `every higher tier failed (last: ${tier.model}, ${describe(e)})`);
        }
        return this.fail(run, e);
      }
    }
    return this.fail(run, new ModelError(ModelErrorKind.UNAVAILABLE, 'no tier answered'));
  }

  private async parallel(run: Run, candidates: PlanCandidate[]) {
    const { step, schema } = run.request;
    const validate = validatorFor(schema);
    const isValid = (output: unknown) => !validate || validate(this.finalOutput(output, schema));
    // first-valid: the first valid answer cancels the calls still running (they are recorded as CANCELLED).
    const race = new AbortController();
    const forwardDeadline = () => race.abort(run.deadline.reason);
    run.deadline.addEventListener('abort', forwardDeadline, { once: true });
    let winner: { call: CallResult; model: string; output: unknown } | undefined;
    const settled = await Promise.allSettled(
      candidates.map((c) =>
        this.call(run, c, race.signal).then((call) => {
          if (step.merge === 'first-valid' && !winner && isValid(call.response.output)) {
            winner = { call, model: c.model, output: call.response.output };
            race.abort(new ModelError(ModelErrorKind.CANCELLED, `cancelled: ${c.model} answered first`));
          }
          return call;
        }),
      ),
    ).finally(() => run.deadline.removeEventListener('abort', forwardDeadline));
    const ok = settled
      .map((s, i) => ({ s, candidate: candidates[i] }))
      .filter(
        (x): x is { s: PromiseFulfilledResult<CallResult>; candidate: PlanCandidate } =>
          x.s.status === 'fulfilled',
      )
      .map((x) => ({ call: x.s.value, model: x.candidate.model, output: x.s.value.response.output }));
    if (ok.length === 0) return this.fail(run, (settled[0] as PromiseRejectedResult).reason);
    const valid = ok.filter((r) => isValid(r.output));
    switch (step.merge) {
      case 'first-valid': {
        const first = winner ?? [...ok].sort((a, b) => a.call.latencyMs - b.call.latencyMs)[0];
        run.decisions.push({
          action: 'merged',
          model: first.model,
          reason: winner
            ? `first valid answer of ${candidates.length} models; the others were cancelled or answered later`
            : `no valid answer among ${ok.length}; the fastest is used`,
        });
        return first;
      }
      case 'majority': {
        const votes = new Map<string, { count: number; first: (typeof ok)[number] }>();
        for (const r of valid.length > 0 ? valid : ok) {
          const label = (r.output as { label?: unknown })?.label;
          const key = typeof label === 'string' ? label : JSON.stringify(r.output);
          const v = votes.get(key);
          if (v) v.count++;
          else votes.set(key, { count: 1, first: r });
        }
        // Map keeps insertion (declared) order, so ties go to the earlier model.
        const [key, winner] = [...votes.entries()].reduce((a, b) => (b[1].count > a[1].count ? b : a));
        run.decisions.push({
          action: 'merged',
          model: winner.first.model,
          reason: `majority: "${key}" by ${winner.count} of ${ok.length} answers`,
        });
        return winner.first;
      }
      case 'fields': {
        const objects = ok.filter((r) => typeof r.output === 'object' && r.output !== null) as {
          call: CallResult;
          model: string;
          output: Record<string, unknown>;
        }[];
        const properties = Object.keys((schema?.properties as Record<string, unknown> | undefined) ?? {});
        const keys =
          properties.length > 0 ? properties : [...new Set(objects.flatMap((o) => Object.keys(o.output)))];
        const merged: Record<string, unknown> = {};
        const sources: string[] = [];
        for (const key of keys) {
          const from = objects.find((o) => o.output[key] !== undefined);
          if (from) {
            merged[key] = from.output[key];
            sources.push(`${key} from ${from.model}`);
          }
        }
        const model = ok.map((r) => r.model).join('+');
        run.decisions.push({ action: 'merged', model, reason: `fields merged: ${sources.join(', ')}` });
        return { call: ok[0].call, model, output: merged };
      }
    }
  }

  private async weighted(run: Run, candidates: PlanCandidate[]) {
    const total = candidates.reduce((n, c) => n + c.weight, 0);
    let pick = this.random() * total;
    let index = candidates.findIndex((c) => (pick -= c.weight) < 0);
    if (index < 0) index = candidates.length - 1;
    const chosen = candidates[index];
    // The rest, heaviest first, are the failover order.
    const rest = candidates.filter((_, i) => i !== index).sort((a, b) => b.weight - a.weight);
    return this.fallback(run, [chosen, ...rest], `weighted pick (weight ${chosen.weight} of ${total})`);
  }

  /** `confidence` is routing metadata: kept in the output only when the output schema declares it. */
  private finalOutput(output: unknown, schema?: Record<string, unknown>): unknown {
    if (typeof output !== 'object' || output === null || !('confidence' in output)) return output;
    const declared = (schema?.properties as Record<string, unknown> | undefined)?.confidence !== undefined;
    if (declared) return output;
    const { confidence: _confidence, ...rest } = output as Record<string, unknown>;
    return rest;
  }
}
