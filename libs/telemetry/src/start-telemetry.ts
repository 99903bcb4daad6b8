import { diag, DiagLogLevel } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

let sdk: NodeSDK | undefined;

const UNTRACED_PATHS = ['/health', '/ready', '/metrics'];

/**
 * Starts the OpenTelemetry Node SDK. Must run before NestJS, pg and http are loaded so that their
 * instrumentation applies. The exporter follows the standard `OTEL_*` variables (OTLP to
 * http://localhost:4318 by default, as Jaeger accepts; `OTEL_TRACES_EXPORTER=none` turns tracing off:
 * the SDK is then not started at all).
 */
export function startTelemetry(options: { serviceName: string; serviceVersion?: string; traceExporter?: SpanExporter }): void {
  if (sdk) return;
  // Tracing off: no SDK at all. Started without an exporter it would still patch http and pg and
  // run their hooks on every request and query, for spans nobody keeps.
  if (!options.traceExporter && tracesExporters().every((name) => name === 'none')) return;
  if (process.env.OTEL_LOG_LEVEL === undefined) diag.setLogger({ ...console, verbose() {}, debug() {}, info() {} }, DiagLogLevel.WARN);
  sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME ?? options.serviceName,
      [ATTR_SERVICE_VERSION]: options.serviceVersion ?? '0.1.0',
    }),
    traceExporter: options.traceExporter,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.some((p) => req.url?.startsWith(p)),
        // Outgoing calls are traced where Troupe makes them (webhooks, providers) with their own spans.
        ignoreOutgoingRequestHook: () => true,
      }),
      // Only queries made on behalf of a job; the outbox relay's polling would otherwise flood traces.
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
}

/** `OTEL_TRACES_EXPORTER` as a list; empty when unset (the SDK then exports OTLP). */
function tracesExporters(): string[] {
  const names = (process.env.OTEL_TRACES_EXPORTER ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  return names.length > 0 ? names : ['otlp'];
}

/** Flushes pending spans; called on shutdown. */
export async function shutdownTelemetry(): Promise<void> {
  if (!sdk) return;
  const current = sdk;
  sdk = undefined;
  await current.shutdown().catch(() => undefined);
}
