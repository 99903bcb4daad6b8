import { context, type Context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

// The W3C propagator is used directly (not the global one) so that trace context crosses Kafka and
// the outbox even where the SDK is not started, e.g. in tests.
const propagator = new W3CTraceContextPropagator();

const setter = { set: (carrier: Record<string, string>, key: string, value: string) => void (carrier[key] = value) };
const getter = {
  get: (carrier: Record<string, string | undefined>, key: string) => carrier[key],
  keys: (carrier: Record<string, string | undefined>) => Object.keys(carrier),
};

/** `traceparent` (and `tracestate`) headers for the given context (default: the active one). */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, setter);
  return carrier;
}

/** The remote context described by `traceparent`/`tracestate` headers. */
export function contextFromHeaders(headers: Record<string, string | undefined>): Context {
  return propagator.extract(ROOT_CONTEXT, headers, getter);
}

/** The trace id of the active span, if any, for logs and API responses. */
export function activeTraceId(): string | undefined {
  const span = trace.getSpan(context.active());
  const id = span?.spanContext().traceId;
  return id && id !== '00000000000000000000000000000000' ? id : undefined;
}
