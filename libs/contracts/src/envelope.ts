import { z } from 'zod';

/**
 * CloudEvents 1.0 attributes of a Troupe event, carried as Kafka headers in the CloudEvents
 * Kafka binding's binary mode (`ce_` prefix); the Kafka value is the event data as JSON.
 */
export const EnvelopeSchema = z.object({
  id: z.string().uuid(),
  source: z.string().min(1),
  type: z.string().min(1),
  specversion: z.literal('1.0'),
  time: z.string().datetime({ offset: true }),
  /** The job id; also the Kafka message key. */
  subject: z.string().min(1),
  tenantid: z.string().min(1),
  correlationid: z.string().min(1),
  causationid: z.string().min(1).optional(),
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

export const CE_HEADER_PREFIX = 'ce_';
export const CONTENT_TYPE_HEADER = 'content-type';
export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';

let lastMicros = 0n;

/**
 * The CloudEvents `time` of a new event: ISO 8601 with microseconds, strictly increasing within a
 * process. Events one stage emits together (e.g. a delivery attempt and the delivery it led to)
 * then keep their order in every timeline, even when they are consumed from different topics.
 */
export function eventTime(): string {
  let micros = BigInt(Date.now()) * 1000n;
  if (micros <= lastMicros) micros = lastMicros + 1n;
  lastMicros = micros;
  const iso = new Date(Number(micros / 1000n)).toISOString(); // yyyy-mm-ddThh:mm:ss.sssZ
  return `${iso.slice(0, 23)}${String(micros % 1000n).padStart(3, '0')}Z`;
}

const ENVELOPE_KEYS = Object.keys(EnvelopeSchema.shape) as (keyof Envelope)[];

/** Envelope -> Kafka headers (binary content mode). */
export function envelopeToHeaders(envelope: Envelope): Record<string, string> {
  const headers: Record<string, string> = { [CONTENT_TYPE_HEADER]: 'application/json' };
  for (const key of ENVELOPE_KEYS) {
    const value = envelope[key];
    if (value !== undefined) headers[CE_HEADER_PREFIX + key] = value;
  }
  return headers;
}

/** Kafka headers -> envelope; throws a ZodError naming the missing or bad attribute. */
export function envelopeFromHeaders(headers: Record<string, string | undefined>): Envelope {
  const raw: Record<string, string | undefined> = {};
  for (const key of ENVELOPE_KEYS) raw[key] = headers[CE_HEADER_PREFIX + key];
  return EnvelopeSchema.parse(raw);
}
