import { randomUUID } from 'node:crypto';
import { deadLetterTopic, type ServiceName } from '@troupe/contracts';
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

/** A dead-letter record for the outbox: the original key, value and headers plus the reason. */
export function deadLetterRecord(
  service: ServiceName,
  consumer: string,
  message: ConsumedMessage,
  failure: { code: string; reason: string; attempts: number },
): OutboxRecord {
  return {
    id: randomUUID(),
    topic: deadLetterTopic(service),
    key: message.key,
    value: message.value ?? Buffer.alloc(0),
    headers: {
      ...message.headers,
      [DLQ_HEADERS.reason]: failure.reason.slice(0, 2000),
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
