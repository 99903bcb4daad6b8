import { performance } from 'node:perf_hooks';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { contextFromHeaders, traceHeaders } from '@troupe/telemetry';
import { Webhook } from 'standardwebhooks';
import type { WebhookSecrets } from './webhook-secrets';

export interface WebhookMessage {
  /** `webhook-id`: the same on every attempt for one job and target. */
  id: string;
  tenantId: string;
  url: string;
  payload: unknown;
  /** The trace context of the event that scheduled the delivery. */
  traceHeaders: Record<string, string>;
}

export interface SendResult {
  ok: boolean;
  statusCode?: number;
  error?: string;
  latencyMs: number;
  /** Worth trying again later (5xx, 408, 429, network errors, timeouts). */
  retryable: boolean;
  /** From a `Retry-After` header on 429/503, in milliseconds. */
  retryAfterMs?: number;
}

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
const tracer = trace.getTracer('@troupe/delivery');

/** Signs a payload per the Standard Webhooks specification and POSTs it. Redirects are not followed. */
export class WebhookSender {
  constructor(
    private readonly secrets: WebhookSecrets,
    private readonly timeoutMs: number,
  ) {}

  async send(message: WebhookMessage): Promise<SendResult> {
    const secret = this.secrets.forTenant(message.tenantId);
    if (!secret) return { ok: false, retryable: false, error: 'no signing secret for tenant', latencyMs: 0 };
    const body = JSON.stringify(message.payload);
    const timestamp = new Date();
    const signature = new Webhook(secret).sign(message.id, timestamp, body);
    const span = tracer.startSpan(
      `POST webhook`,
      {
        kind: SpanKind.CLIENT,
        attributes: { 'http.request.method': 'POST', 'url.full': redactUrl(message.url), 'troupe.webhook.id': message.id },
      },
      contextFromHeaders(message.traceHeaders),
    );
    const started = performance.now();
    try {
      const response = await fetch(message.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Troupe-Webhooks/1.0',
          'webhook-id': message.id,
          'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
          'webhook-signature': signature,
          ...traceHeaders(trace.setSpan(context.active(), span)),
        },
        body,
      });
      await response.arrayBuffer().catch(() => undefined); // drain so the connection is reused
      const latencyMs = performance.now() - started;
      span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 200 && response.status < 300) {
        return { ok: true, retryable: false, statusCode: response.status, latencyMs };
      }
      span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${response.status}` });
      return {
        ok: false,
        statusCode: response.status,
        latencyMs,
        error: `HTTP ${response.status}`,
        retryable: RETRYABLE_STATUS.has(response.status),
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      };
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      const message_ = timedOut ? `timed out after ${this.timeoutMs} ms` : describeNetworkError(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: message_ });
      return { ok: false, retryable: true, error: message_, latencyMs: performance.now() - started };
    } finally {
      span.end();
    }
  }
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? 'network error';
}

/** Query strings may hold tokens: keep them out of traces. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'invalid-url';
  }
}
