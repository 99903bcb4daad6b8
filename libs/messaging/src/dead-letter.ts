import { randomUUID } from 'node:crypto';
import { deadLetterTopic, toStorableText, type ServiceName } from '@troupe/contracts';
import type { ConsumedMessage } from './kafka-gateway';
import type { OutboxRecord } from './outbox';

/** Headers added to a dead letter; the original headers are kept beside them. */
export const DLQ_HEADERS = {
  reason: 'troupe_dlq_reason',
  code: 'troupe_dlq_code',
  consumer: 'troupe_dlq_consumer',
  topic: 'troupe_dlq_topic',
  partition: 'troupe_dlq_partition',
  offset: 'troupe_dlq_offset',
  attempts: 'troupe_dlq_attempts',
  time: 'troupe_dlq_time',
} as const;

/**
 * Set on a message republished from a dead letter (the dead letter's id). The consumer's inbox keys a
 * replayed message by this value instead of its event id: the first replay of a dead letter is
 * processed (the original id is already in the inbox: it was dead-lettered), a second replay of the
 * same dead letter is a duplicate.
 */
export const REPLAY_HEADER = 'troupe_replay_of';

/** Headers of a dead letter minus the ones the dead-lettering added: what to republish on replay. */
export function originalHeaders(headers: Record<string, string>): Record<string, string> {
  const added = new Set<string>(Object.values(DLQ_HEADERS));
  return Object.fromEntries(Object.entries(headers).filter(([key]) => !added.has(key) && key !== REPLAY_HEADER));
}

/** A dead-letter record for the outbox: the original key, value and headers plus the reason. */
export function deadLetterRecord(
  service: ServiceName,
  consumer: string,
  message: ConsumedMessage,
  failure: { code: string; reason: string; attempts: number },
): OutboxRecord {
  // Headers are stored as jsonb in the outbox: a NUL or lone surrogate in a header or in the reason
  // (which may quote the message) would make the dead letter itself unstorable. The value is bytes.
  const headers = Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [toStorableText(k), toStorableText(v)]));
  return {
    id: randomUUID(),
    topic: deadLetterTopic(service),
    key: message.key === null ? null : toStorableText(message.key),
    value: message.value ?? Buffer.alloc(0),
    headers: {
      ...headers,
      [DLQ_HEADERS.reason]: toStorableText(failure.reason.slice(0, 2000)),
      [DLQ_HEADERS.code]: failure.code,
      [DLQ_HEADERS.consumer]: consumer,
      [DLQ_HEADERS.topic]: message.topic,
      [DLQ_HEADERS.partition]: String(message.partition),
      [DLQ_HEADERS.offset]: message.offset,
      [DLQ_HEADERS.attempts]: String(failure.attempts),
      [DLQ_HEADERS.time]: new Date().toISOString(),
    },
  };
}
