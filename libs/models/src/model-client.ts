import { performance } from 'node:perf_hooks';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { toStorableText, toStorableValue, type ModelAttempt } from '@troupe/contracts';
import { redact, restore } from './redaction';
import {
  BrokenCircuitError,
  bulkhead,
  BulkheadRejectedError,
  CircuitState,
  circuitBreaker,
  ConsecutiveBreaker,
  handleWhen,
  type BulkheadPolicy,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { AnthropicAdapter } from './anthropic.adapter';
import { costOf, countTokens, estimateTokens } from './cost';
import { worstCaseCostUsd, type CostWallet } from './cost-wallet';
import { LocalAdapter } from './local/local.adapter';
import type { ModelAdapter, ModelRequest, ModelResponse, TokenUsage } from './model-adapter';
import type { ModelCatalogue, ResolvedModel } from './model-catalogue';
import { ModelError, ModelErrorKind } from './model-error';
import { genAiOperationDuration, genAiTokenUsage, modelCallSeconds, modelCalls, modelCircuitState, modelCostUsd, modelTokens } from './model-metrics';
import { OpenAiCompatibleAdapter } from './openai-compatible.adapter';

export interface ModelPolicyOptions {
  /** Tries per model for transient errors (1 = no retry). */
  maxAttempts: number;
  /** Backoff: full jitter in [0, min(cap, base * 2^(n-1))); a longer `Retry-After` wins. */
  retryBaseMs: number;
  retryCapMs: number;
  /** The longest `Retry-After` waited for; a longer one fails the model at once (fallbacks move on). */
  retryAfterCapMs: number;
  /** Consecutive unhealthy failures (timeouts, 5xx, 429) that open a model's circuit. */
  breakerFailures: number;
  /** How long an open circuit waits before letting one trial call through. */
  breakerHalfOpenMs: number;
  /** Overrides the catalogue's per-provider timeout for every call (tests, benchmarks). */
  timeoutMs?: number;
}

export const DEFAULT_POLICY: ModelPolicyOptions = {
  maxAttempts: 3,
  retryBaseMs: 250,
  retryCapMs: 10_000,
  retryAfterCapMs: 30_000,
  breakerFailures: 5,
  breakerHalfOpenMs: 10_000,
};

export interface CallOptions {
  /** Aborted when the step's deadline passes: no further try starts, the one in flight is cancelled. */
  deadline: AbortSignal;
  timeoutMs?: number;
  /** When the deadline passes (`performance.now()` time): a retry that could not start before it is not waited for. */
  deadlineAt?: number;
  /** Every try is appended here, failed ones included: the job's record of what happened. */
  attempts: ModelAttempt[];
  /** The job's budget allowance: a try whose worst case does not fit is not sent (BUDGET_EXCEEDED). */
  wallet?: CostWallet;
}

export interface CallResult {
  model: ResolvedModel;
  response: ModelResponse;
  usage: TokenUsage;
  costUsd: number;
  latencyMs: number;
  confidence?: number;
}

const tracer = trace.getTracer('@troupe/models');
const STATE_VALUE: Record<CircuitState, number> = {
  [CircuitState.Closed]: 0,
  [CircuitState.HalfOpen]: 1,
  [CircuitState.Open]: 2,
  [CircuitState.Isolated]: 2,
};

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The output's own `confidence` field, or the one an in-process model reported. */
export function confidenceOf(response: ModelResponse): number | undefined {
  if (typeof response.confidence === 'number') return response.confidence;
  const c = (response.output as { confidence?: unknown } | null)?.confidence;
  return typeof c === 'number' && c >= 0 && c <= 1 ? c : undefined;
}

/**
 * Calls one model with Troupe's policies, the only ones (SDK retries are not used): a bulkhead per
 * provider, a circuit breaker per model, a timeout per call inside the step's deadline, and retries
 * of transient errors with exponential backoff and full jitter, honouring `Retry-After`.
 */
export class ModelClient {
  private readonly adapters: Record<string, ModelAdapter> = {
    openai: new OpenAiCompatibleAdapter(),
    anthropic: new AnthropicAdapter(),
    local: new LocalAdapter(),
  };
  private readonly bulkheads = new Map<string, BulkheadPolicy>();
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();

  constructor(
    readonly catalogue: ModelCatalogue,
    readonly policy: ModelPolicyOptions = DEFAULT_POLICY,
  ) {
    for (const provider of catalogue.providers.values()) {
      this.bulkheads.set(provider.name, bulkhead(provider.maxConcurrency, provider.maxQueue));
    }
    for (const model of catalogue.models.values()) {
      const breaker = circuitBreaker(
        handleWhen((e) => e instanceof ModelError && e.unhealthy),
        { halfOpenAfter: policy.breakerHalfOpenMs, breaker: new ConsecutiveBreaker(policy.breakerFailures) },
      );
      modelCircuitState.set({ model: model.ref }, 0);
      breaker.onStateChange((state) => modelCircuitState.set({ model: model.ref }, STATE_VALUE[state]));
      this.breakers.set(model.ref, breaker);
    }
  }

  /** For tests and dashboards: `closed`, `half-open` or `open`. */
  circuitState(ref: string): 'closed' | 'half-open' | 'open' {
    const state = this.breakers.get(ref)?.state;
    return state === CircuitState.Open || state === CircuitState.Isolated
      ? 'open'
      : state === CircuitState.HalfOpen
        ? 'half-open'
        : 'closed';
  }

  async call(ref: string, request: ModelRequest, options: CallOptions): Promise<CallResult> {
    const model = this.catalogue.get(ref);
    if (!model) throw new ModelError(ModelErrorKind.UNKNOWN_MODEL, `the model catalogue has no model ${ref}`);
    // Refused before any request (nothing sent, nothing billed), but recorded like any attempt.
    const refuse = (kind: ModelErrorKind, message: string): never => {
      const error = new ModelError(kind, message);
      options.attempts.push({ model: ref, try: 1, outcome: 'failed', errorKind: kind, error: message, latencyMs: 0, costUsd: 0 });
      throw error;
    };
    if (model.provider.unavailableReason) refuse(ModelErrorKind.NOT_CONFIGURED, model.provider.unavailableReason);
    // A prompt that cannot fit is refused here, without a paid request; fallbacks move to a larger model.
    const promptTokens = estimateTokens(request.system + request.user);
    if (model.provider.kind !== 'local' && promptTokens > model.capabilities.contextTokens) {
      refuse(
        ModelErrorKind.CONTEXT_TOO_LONG,
        `about ${promptTokens} prompt tokens exceed ${ref}'s context of ${model.capabilities.contextTokens}`,
      );
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(model, request, options, attempt);
      } catch (error) {
        const e = error as ModelError;
        if (
          !(e instanceof ModelError) ||
          !e.retryable ||
          attempt >= this.policy.maxAttempts ||
          options.deadline.aborted
        )
          throw e;
        const jitter =
          Math.random() * Math.min(this.policy.retryCapMs, this.policy.retryBaseMs * 2 ** (attempt - 1));
        const delay = Math.max(jitter, e.details.retryAfterMs ?? 0);
        // A Retry-After beyond its cap or the deadline is not waited for: the error goes up
        // at once, so a fallback plan can move to another model instead of idling.
        if (
          delay > Math.max(this.policy.retryCapMs, this.policy.retryAfterCapMs) ||
          (options.deadlineAt !== undefined && performance.now() + delay >= options.deadlineAt)
        )
          throw e;
        await sleep(delay, options.deadline);
        if (options.deadline.aborted) {
          if (options.deadline.reason instanceof ModelError) throw options.deadline.reason; // cancelled, not late
          throw new ModelError(
            ModelErrorKind.DEADLINE_EXCEEDED,
            `the step's deadline passed while waiting to retry ${ref}`,
          );
        }
      }
    }
  }

  private async once(
    model: ResolvedModel,
    request: ModelRequest,
    options: CallOptions,
    attempt: number,
  ): Promise<CallResult> {
    // Personal data stays with the tenant: a third-party provider gets placeholders, a local model the original.
    const redaction = request.redact?.length && model.provider.kind !== 'local' ? redact(request.user, request.redact) : undefined;
    const redactions = redaction ? redaction.originals.size : undefined;
    if (redaction) request = { ...request, user: redaction.text };
    const started = performance.now();
    const genAi = {
      gen_ai_operation_name: 'chat',
      gen_ai_provider_name: model.provider.kind === 'local' ? 'troupe.local' : model.provider.kind,
      gen_ai_request_model: model.model,
    };
    const span = tracer.startSpan(`chat ${model.model}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': genAi.gen_ai_operation_name,
        'gen_ai.provider.name': genAi.gen_ai_provider_name,
        'gen_ai.request.model': genAi.gen_ai_request_model,
        'troupe.model.ref': model.ref,
        'troupe.model.try': attempt,
      },
    });
    const timeoutMs = options.timeoutMs ?? this.policy.timeoutMs ?? model.provider.timeoutMs;
    // Checked before every try, retries included: a call that could pass the reservation is not made.
    const worst = options.wallet ? worstCaseCostUsd(model, request) : 0;
    if (options.wallet && !options.wallet.hold(worst)) {
      span.end();
      const message = `a call to ${model.ref} may cost up to $${worst.toFixed(6)}; the job's budget reservation has $${Math.max(0, options.wallet.remainingUsd).toFixed(6)} left`;
      options.attempts.push({ model: model.ref, try: attempt, outcome: 'failed', errorKind: ModelErrorKind.BUDGET_EXCEEDED, error: message, latencyMs: 0, costUsd: 0 });
      throw new ModelError(ModelErrorKind.BUDGET_EXCEEDED, message);
    }
    let spent = 0;
    const record = (a: Omit<ModelAttempt, 'model' | 'try' | 'latencyMs'>) => {
      spent = a.costUsd ?? 0;
      const latencyMs = performance.now() - started;
      options.attempts.push({ model: model.ref, try: attempt, latencyMs, ...a });
      modelCallSeconds.observe({ model: model.ref }, latencyMs / 1000);
      genAiOperationDuration.observe({ ...genAi, error_type: a.errorKind ?? '' }, latencyMs / 1000);
      if (a.usage) {
        genAiTokenUsage.observe({ ...genAi, gen_ai_token_type: 'input' }, a.usage.inputTokens);
        genAiTokenUsage.observe({ ...genAi, gen_ai_token_type: 'output' }, a.usage.outputTokens);
      }
      return latencyMs;
    };
    try {
      const raw = await this.breakers.get(model.ref)!.execute(() =>
        this.bulkheads.get(model.provider.name)!.execute(async () => {
          // The timeout starts when the call leaves the queue: waiting for a slot is bounded by the deadline only.
          // A plain controller and a cleared timer, not AbortSignal.timeout/any: those keep every
          // signal alive until it fires, which at high call rates is measurable GC work.
          const controller = new AbortController();
          const abort = () => controller.abort();
          const timer = setTimeout(abort, timeoutMs);
          options.deadline.addEventListener('abort', abort, { once: true });
          try {
            return await this.adapters[model.provider.kind].call(model, request, controller.signal);
          } finally {
            clearTimeout(timer);
            options.deadline.removeEventListener('abort', abort);
          }
        }, options.deadline),
      );
      // A provider's output may hold text no store can keep (NUL, lone surrogates): normalised here,
      // where it enters, so it never fails a write downstream.
      let response = { ...raw, text: toStorableText(raw.text), output: toStorableValue(raw.output) };
      if (redaction) response = { ...response, text: restore(response.text, redaction.originals), output: restore(response.output, redaction.originals) };
      // Chat formats add a few tokens per message around the contents: 3 each, plus 3 to prime the reply.
      const usage = response.usage ?? {
        inputTokens: countTokens(request.system) + countTokens(request.user) + 9,
        outputTokens: countTokens(response.text),
      };
      const costUsd = costOf(usage, model.price);
      const confidence = confidenceOf(response);
      const latencyMs = record({
        outcome: 'succeeded',
        usage,
        costUsd,
        confidence,
        providerRequestId: response.providerRequestId,
        redactions,
      });
      modelCalls.inc({ model: model.ref, outcome: 'ok' });
      modelTokens.inc({ model: model.ref, direction: 'input' }, usage.inputTokens);
      modelTokens.inc({ model: model.ref, direction: 'output' }, usage.outputTokens);
      modelCostUsd.inc({ model: model.ref }, costUsd);
      span.setAttributes({
        'gen_ai.usage.input_tokens': usage.inputTokens,
        'gen_ai.usage.output_tokens': usage.outputTokens,
        'gen_ai.response.finish_reasons': [response.finishReason],
        'troupe.model.cost_usd': costUsd,
      });
      if (response.providerRequestId) span.setAttribute('gen_ai.response.id', response.providerRequestId);
      return { model, response, usage, costUsd, latencyMs, confidence };
    } catch (thrown) {
      const error = this.normalise(thrown, model, options.deadline);
      // Malformed answers were still generated: the provider bills them.
      const usage = error.details.usage;
      const costUsd = usage ? costOf(usage, model.price) : 0;
      record({
        outcome: 'failed',
        errorKind: error.kind,
        error: error.message,
        usage,
        costUsd,
        providerRequestId: error.details.providerRequestId,
        redactions,
      });
      modelCalls.inc({ model: model.ref, outcome: error.kind });
      if (costUsd > 0) modelCostUsd.inc({ model: model.ref }, costUsd);
      span.setAttribute('error.type', error.kind);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      throw error;
    } finally {
      options.wallet?.spend(worst, spent);
      span.end();
    }
  }

  private normalise(error: unknown, model: ResolvedModel, deadline: AbortSignal): ModelError {
    if (error instanceof BrokenCircuitError) {
      return new ModelError(
        ModelErrorKind.CIRCUIT_OPEN,
        `the circuit for ${model.ref} is open after repeated failures`,
      );
    }
    if (error instanceof BulkheadRejectedError) {
      return new ModelError(
        ModelErrorKind.BULKHEAD_FULL,
        `provider ${model.provider.name} is at its concurrency limit and its queue is full`,
      );
    }
    if (deadline.aborted) {
      // The plan may abort with its own reason (a cancellation); otherwise it is the deadline.
      if (deadline.reason instanceof ModelError) return deadline.reason;
      return new ModelError(
        ModelErrorKind.DEADLINE_EXCEEDED,
        `the step's deadline passed during a call to ${model.ref}`,
      );
    }
    if (error instanceof ModelError) return error;
    return new ModelError(
      ModelErrorKind.UNAVAILABLE,
      `the call to ${model.ref} failed: ${(error as Error)?.message ?? String(error)}`,
    );
  }
}
