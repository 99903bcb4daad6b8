import { ZodError } from 'zod';

/** The message itself is bad (schema, business rule): retrying cannot help; it is dead-lettered. */
export class PermanentError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentError';
  }
}

/** A passing condition (a busy dependency, a lock conflict): the message is retried with backoff. */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/**
 * - `permanent`: dead-letter at once.
 * - `infrastructure`: Postgres or Kafka unreachable; not the message's fault, retried until it recovers.
 * - `transient`: retried with backoff up to the attempt limit, then dead-lettered.
 */
export type ErrorClass = 'permanent' | 'infrastructure' | 'transient';

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

export function classifyError(error: unknown): ErrorClass {
  if (error instanceof PermanentError || error instanceof ZodError) return 'permanent';
  if (error instanceof SyntaxError || error instanceof TypeError || error instanceof RangeError) return 'permanent';
  if (error instanceof TransientError) return 'transient';
  const e = error as { code?: unknown; driverError?: { code?: unknown }; message?: unknown };
  const code = String(e?.driverError?.code ?? e?.code ?? '');
  if (CONNECTION_CODES.has(code)) return 'infrastructure';
  // PostgreSQL: 08 connection exception, 57P0x shutdown, 53 insufficient resources.
  if (/^(08|57P0|53)/.test(code)) return 'infrastructure';
  // Serialization failure, deadlock: retry.
  if (code === '40001' || code === '40P01') return 'transient';
  const message = String(e?.message ?? '');
  if (/Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(message)) {
    return 'infrastructure';
  }
  // kafkajs: the broker is unreachable or did not answer in time.
  const name = String((error as { name?: unknown })?.name ?? '');
  if (name === 'KafkaJSConnectionError' || name === 'KafkaJSRequestTimeoutError' || name === 'KafkaJSConnectionClosedError') return 'infrastructure';
  return 'transient';
}

export function errorCode(error: unknown): string {
  if (error instanceof PermanentError) return error.code;
  if (error instanceof ZodError) return 'SCHEMA_VIOLATION';
  if (error instanceof Error) return error.name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
  return 'UNKNOWN_ERROR';
}

export function errorMessage(error: unknown): string {
  if (error instanceof ZodError) {
    return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Exponential backoff with full jitter: a random delay in [0, min(cap, base * 2^attempt)). */
export function backoffDelay(attempt: number, baseMs = 200, capMs = 30_000): number {
  return Math.floor(Math.random() * Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1)));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
