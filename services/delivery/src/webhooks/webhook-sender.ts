import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { EgressErrorCode, EgressForbiddenError, type EgressPolicy } from '@troupe/egress';
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
  /** Machine-readable failure code for events and dead letters (`HTTP_404`, `WEBHOOK_URL_FORBIDDEN`...). */
  code?: string;
  latencyMs: number;
  /** Worth trying again later (5xx, 408, 429, network errors, timeouts). */
  retryable: boolean;
  /** From a `Retry-After` header on 429/502/503/504, in milliseconds. */
  retryAfterMs?: number;
  /** The target answered 410 Gone: it asks never to be called again. */
  disableTarget?: boolean;
}

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
/** The statuses whose `Retry-After` we honour (RFC 9110 defines it for 429 and 503; gateways send it on 502/504). */
const RETRY_AFTER_STATUS = new Set([429, 502, 503, 504]);
const tracer = trace.getTracer('@troupe/delivery');

/**
 * Signs a payload per the Standard Webhooks specification and POSTs it. Redirects are not followed.
 * Connections go only where the egress policy allows: an IP-literal host is checked before the
 * request, a host name inside the socket's lookup, so the address checked is the address connected
 * to (Host header and TLS SNI keep the name).
 */
export class WebhookSender {
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
  };

  constructor(
    private readonly secrets: WebhookSecrets,
    private readonly timeoutMs: number,
    private readonly egress: EgressPolicy,
  ) {}

  async send(message: WebhookMessage): Promise<SendResult> {
    const secret = this.secrets.forTenant(message.tenantId);
    if (!secret) return { ok: false, retryable: false, code: 'NO_SIGNING_SECRET', error: 'no signing secret for tenant', latencyMs: 0 };
    let url: URL;
    try {
      url = new URL(message.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`scheme ${url.protocol}`);
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      if (isIP(host)) this.egress.checkAddress(host);
    } catch (error) {
      return { ok: false, retryable: false, code: EgressErrorCode.WEBHOOK_URL_FORBIDDEN, error: `refused: ${(error as Error).message}`, latencyMs: 0 };
    }
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
      const response = await this.post(url, body, {
        'content-type': 'application/json',
        'user-agent': 'Troupe-Webhooks/1.0',
        'webhook-id': message.id,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': signature,
        ...traceHeaders(trace.setSpan(context.active(), span)),
      });
      const latencyMs = performance.now() - started;
      span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 200 && response.status < 300) {
        return { ok: true, retryable: false, statusCode: response.status, latencyMs };
      }
      span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${response.status}` });
      const redirect = response.status >= 300 && response.status < 400;
      return {
        ok: false,
        statusCode: response.status,
        latencyMs,
        code: `HTTP_${response.status}`,
        error: redirect ? `HTTP ${response.status}: redirects are not followed` : `HTTP ${response.status}`,
        retryable: RETRYABLE_STATUS.has(response.status),
        retryAfterMs: RETRY_AFTER_STATUS.has(response.status) ? parseRetryAfter(response.retryAfter) : undefined,
        disableTarget: response.status === 410,
      };
    } catch (error) {
      const latencyMs = performance.now() - started;
      if (error instanceof EgressForbiddenError) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
        // A name that stopped resolving may come back; one that resolves inside the network is refused for good.
        return {
          ok: false,
          retryable: error.code === EgressErrorCode.WEBHOOK_HOST_UNRESOLVABLE,
          code: error.code,
          error: `refused: ${error.message}`,
          latencyMs,
        };
      }
      const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
      const message_ = timedOut ? `timed out after ${this.timeoutMs} ms` : describeNetworkError(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: message_ });
      return { ok: false, retryable: true, code: timedOut ? 'WEBHOOK_TIMEOUT' : 'WEBHOOK_UNREACHABLE', error: message_, latencyMs };
    } finally {
      span.end();
    }
  }

  private post(url: URL, body: string, headers: Record<string, string>): Promise<{ status: number; retryAfter?: string }> {
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = client.request(
        url,
        {
          method: 'POST',
          agent: this.agents[url.protocol as 'http:' | 'https:'],
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          lookup: this.egress.lookup(),
          signal: AbortSignal.timeout(this.timeoutMs),
        },
        (response) => {
          const retryAfter = response.headers['retry-after'];
          response.resume(); // drain so the connection is reused
          response.on('end', () => resolve({ status: response.statusCode ?? 0, retryAfter }));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }
}

/** `Retry-After` as delay-seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | undefined | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP date names a weekday and a month; Date.parse alone would read "-5" as a year.
  if (!/[a-z]{3}/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function describeNetworkError(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return e.code ?? e.cause?.code ?? e.cause?.message ?? e.message ?? 'network error';
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
