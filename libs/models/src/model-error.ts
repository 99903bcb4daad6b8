/** Every way a model call can fail, normalised across providers. */
export enum ModelErrorKind {
  INVALID_REQUEST = 'INVALID_REQUEST',
  AUTHENTICATION = 'AUTHENTICATION',
  PERMISSION = 'PERMISSION',
  NOT_FOUND = 'NOT_FOUND',
  RATE_LIMITED = 'RATE_LIMITED',
  TIMEOUT = 'TIMEOUT',
  UNAVAILABLE = 'UNAVAILABLE',
  CONTEXT_TOO_LONG = 'CONTEXT_TOO_LONG',
  MALFORMED_OUTPUT = 'MALFORMED_OUTPUT',
  /** The provider has no API key in this deployment: treated like an outage, so fallbacks apply. */
  NOT_CONFIGURED = 'NOT_CONFIGURED',
  /** Our own breaker refused the call without sending it. */
  CIRCUIT_OPEN = 'CIRCUIT_OPEN',
  /** The provider's concurrency limit and queue are full. */
  BULKHEAD_FULL = 'BULKHEAD_FULL',
  /** The step's deadline passed; no further attempt is made. */
  DEADLINE_EXCEEDED = 'DEADLINE_EXCEEDED',
  UNKNOWN_MODEL = 'UNKNOWN_MODEL',
  /** Called off by the plan itself (a parallel `first-valid` that already has its answer), the job's cancellation or a shutdown. */
  CANCELLED = 'CANCELLED',
  /** The model answered, but its output does not satisfy the step's output schema. */
  OUTPUT_INVALID = 'OUTPUT_INVALID',
  /** The call's worst case would take the job past its budget reservation: not sent. */
  BUDGET_EXCEEDED = 'BUDGET_EXCEEDED',
}

/** Retried against the same model (with backoff): the condition may pass within seconds. */
const RETRYABLE = new Set([ModelErrorKind.RATE_LIMITED, ModelErrorKind.TIMEOUT, ModelErrorKind.UNAVAILABLE]);
/** Moved past to the next model of a fallback or cascade: another model may well succeed. */
const FALLBACK = new Set([
  ...RETRYABLE,
  ModelErrorKind.MALFORMED_OUTPUT,
  ModelErrorKind.OUTPUT_INVALID,
  ModelErrorKind.NOT_CONFIGURED,
  ModelErrorKind.CIRCUIT_OPEN,
  ModelErrorKind.BULKHEAD_FULL,
  ModelErrorKind.CONTEXT_TOO_LONG,
  // A cheaper model further down the plan may still fit the reservation.
  ModelErrorKind.BUDGET_EXCEEDED,
]);
/** Counted by the circuit breaker: the provider is unhealthy (a 400 says nothing about its health). */
const UNHEALTHY = new Set([ModelErrorKind.TIMEOUT, ModelErrorKind.UNAVAILABLE, ModelErrorKind.RATE_LIMITED]);

export class ModelError extends Error {
  constructor(
    readonly kind: ModelErrorKind,
    message: string,
    readonly details: {
      status?: number;
      retryAfterMs?: number;
      providerRequestId?: string;
      usage?: { inputTokens: number; outputTokens: number };
    } = {},
  ) {
    super(message);
    this.name = 'ModelError';
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }

  get fallbackable(): boolean {
    return FALLBACK.has(this.kind);
  }

  get unhealthy(): boolean {
    return UNHEALTHY.has(this.kind);
  }
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds; also OpenAI's `retry-after-ms`. */
export function parseRetryAfter(
  headers: { get(name: string): string | null },
  now = Date.now(),
): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get('retry-after');
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.max(0, Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const CONTEXT_HINT = /context[_ ]length|maximum context|too many tokens|prompt is too long|context window/i;

/** Classifies a non-2xx provider answer by status and, where status is ambiguous, by the body. */
export function errorFromResponse(
  status: number,
  headers: { get(name: string): string | null },
  bodyText: string,
  providerRequestId?: string,
): ModelError {
  // Only the provider's own message goes into the error: never headers (they may echo credentials).
  let message = bodyText.slice(0, 300);
  try {
    const body = JSON.parse(bodyText) as {
      error?: { message?: string; type?: string; code?: string } | string;
    };
    if (typeof body.error === 'object' && body.error?.message) message = body.error.message;
    else if (typeof body.error === 'string') message = body.error;
  } catch {
    // Not JSON: keep the text.
  }
  const details = { status, providerRequestId, retryAfterMs: parseRetryAfter(headers) };
  const text = `HTTP ${status}: ${message}`;
  if (status === 400 || status === 413 || status === 422) {
    if (CONTEXT_HINT.test(bodyText)) return new ModelError(ModelErrorKind.CONTEXT_TOO_LONG, text, details);
    return new ModelError(ModelErrorKind.INVALID_REQUEST, text, details);
  }
  if (status === 401) return new ModelError(ModelErrorKind.AUTHENTICATION, text, details);
  if (status === 403) return new ModelError(ModelErrorKind.PERMISSION, text, details);
  if (status === 404) return new ModelError(ModelErrorKind.NOT_FOUND, text, details);
  if (status === 408) return new ModelError(ModelErrorKind.TIMEOUT, text, details);
  if (status === 429) return new ModelError(ModelErrorKind.RATE_LIMITED, text, details);
  // 529 is Anthropic's "overloaded".
  if (status >= 500) return new ModelError(ModelErrorKind.UNAVAILABLE, text, details);
  return new ModelError(ModelErrorKind.INVALID_REQUEST, text, details);
}

/** Classifies what fetch threw: our abort (timeout) or a connection failure. */
export function errorFromThrown(error: unknown, timedOut: boolean): ModelError {
  if (error instanceof ModelError) return error;
  if (timedOut)
    return new ModelError(ModelErrorKind.TIMEOUT, 'the provider did not answer within the timeout');
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const detail = e?.code ?? e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(error);
  return new ModelError(ModelErrorKind.UNAVAILABLE, `connection failed: ${detail}`);
}
