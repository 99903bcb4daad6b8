import { randomUUID } from 'node:crypto';
import { EVENT_CATALOG, envelopeToHeaders, eventTime, type Envelope, type OutgoingEvent } from '@troupe/contracts';
import { afterCommit } from '@troupe/persistence';
import { traceHeaders } from '@troupe/telemetry';
import { eventDataSchema } from './event-schemas';
import type { DataSource, EntityManager } from 'typeorm';

/** A row of a service's outbox table: one Kafka message, complete with headers. */
export interface OutboxRecord {
  id: string;
  topic: string;
  key: string | null;
  headers: Record<string, string>;
  value: Buffer;
}

export interface EventOrigin {
  /** The emitting service (CloudEvents `source`). */
  service: string;
  /** The request or job this event belongs to; kept across the whole chain. */
  correlationId: string;
  /** The id of the event (or request) that caused this one. */
  causationId?: string;
}

/**
 * Turns an event into an outbox record: validates its data, adds the CloudEvents envelope and the
 * trace context active now (so the relay can continue the trace when it publishes).
 */
export function toOutboxRecord(event: OutgoingEvent, origin: EventOrigin): OutboxRecord {
  const entry = EVENT_CATALOG[event.type];
  const data = eventDataSchema(event.type).parse(event.data) as { jobId: string; tenantId: string };
  const envelope: Envelope = {
    id: randomUUID(),
    source: `troupe/${origin.service}`,
    type: event.type,
    specversion: '1.0',
    time: eventTime(),
    subject: data.jobId,
    tenantid: data.tenantId,
    correlationid: origin.correlationId,
    causationid: origin.causationId,
  };
  return {
    id: envelope.id,
    topic: entry.topic,
    key: data.jobId,
    headers: { ...envelopeToHeaders(envelope), ...traceHeaders() },
    value: Buffer.from(JSON.stringify(data)),
  };
}

/** Outbox rows one transaction appended, told to the relay once it has committed. */
export interface CommittedOutboxRows {
  records: OutboxRecord[];
  /** When they were written (ms since the epoch), for the publish-delay histogram. */
  writtenAt: number;
}

type OutboxListener = (committed: CommittedOutboxRows) => void;
const committedListeners = new Map<DataSource, Set<OutboxListener>>();

/**
 * Calls `listener` each time a transaction of `dataSource` that appended outbox rows has committed
 * (in this process), with those rows: how the relay wakes at once, and publishes them without
 * reading them back. Returns the unsubscribe function.
 */
export function whenOutboxCommits(dataSource: DataSource, listener: OutboxListener): () => void {
  const listeners = committedListeners.get(dataSource) ?? new Set<OutboxListener>();
  committedListeners.set(dataSource, listeners);
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) committedListeners.delete(dataSource);
  };
}

function outboxCommitted(dataSource: DataSource, committed: CommittedOutboxRows): void {
  committedListeners.get(dataSource)?.forEach((listener) => listener(committed));
}

/** Inserts outbox rows in one statement, inside the caller's transaction; the relay wakes once it commits. */
export async function appendToOutbox(manager: EntityManager, records: OutboxRecord[]): Promise<void> {
  if (records.length === 0) return;
  const params: unknown[] = [];
  const rows = records.map((r) => {
    params.push(r.id, r.topic, r.key, JSON.stringify(r.headers), r.value);
    const n = params.length;
    return `($${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}::jsonb, $${n})`;
  });
  await manager.query(`INSERT INTO outbox (id, topic, key, headers, value) VALUES ${rows.join(', ')}`, params);
  const writtenAt = Date.now();
  afterCommit(manager, () => outboxCommitted(manager.connection, { records, writtenAt }));
}
