import type { Envelope, OutgoingEvent } from '@troupe/contracts';
import type { EntityManager } from 'typeorm';
import { ChunkWrites, type DeferredWrite } from './batch-writes';
import { toOutboxRecord, type OutboxRecord } from './outbox';

/** What a prepare handler receives with `@Ctx()`: no transaction, no emit, only where the event came from. */
export interface PrepareContext {
  envelope: Envelope;
  topic: string;
  /** Aborted when the consumer shuts down: stop the slow work; its result will not be used. */
  signal: AbortSignal;
}

/** What a prepare handler returned (or threw), handed to the topic's handler. */
export type PreparedOutcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * What a handler receives with `@Ctx()`: the event's envelope, the transaction its effects must use,
 * and `emit`, which queues events for the outbox in that same transaction.
 */
export class MessageContext {
  /** Outbox records emitted by the handler, inserted with the batch's transaction. */
  readonly emitted: OutboxRecord[] = [];

  constructor(
    readonly service: string,
    readonly envelope: Envelope,
    readonly topic: string,
    readonly partition: number,
    readonly offset: string,
    readonly manager: EntityManager,
    private readonly writes: ChunkWrites = new ChunkWrites(),
    /** The Kafka headers as received (raw-topic handlers read them). */
    readonly headers: Record<string, string> = {},
    readonly key: string | null = null,
    private readonly preparedOutcome?: PreparedOutcome,
    /** Collected by the transport for the chunk, run after its commit. */
    private readonly commitCallbacks: (() => void)[] = [],
  ) {}

  /**
   * The value the topic's prepare handler (`@EventPattern(preparePattern(topic))`) returned for this
   * message before the transaction began; rethrows what it threw, so the usual retry and
   * dead-letter rules apply. Throws when the topic has no prepare handler.
   */
  prepared<T>(): T {
    if (!this.preparedOutcome) throw new Error(`no prepare handler ran for ${this.topic}`);
    if (!this.preparedOutcome.ok) throw this.preparedOutcome.error;
    return this.preparedOutcome.value as T;
  }

  /**
   * A write shared by every message of the chunk (created on first use), flushed once before the
   * chunk commits: how handlers avoid a database round trip per message.
   */
  deferred<T extends DeferredWrite>(name: string, create: () => T): T {
    return this.writes.get(name, create);
  }

  /**
   * Runs `callback` once the chunk's transaction has committed (not when it rolls back): how a
   * handler starts in-process work whose durable record it just wrote (e.g. a scheduled step).
   * The Kafka offset is committed after the callbacks returned; they must not throw.
   */
  onCommit(callback: () => void): void {
    this.commitCallbacks.push(callback);
  }

  /** Queues an event caused by this one: same correlation id, causation = this event's id. */
  emit(event: OutgoingEvent): void {
    this.emitted.push(
      toOutboxRecord(event, {
        service: this.service,
        correlationId: this.envelope.correlationid,
        causationId: this.envelope.id,
      }),
    );
  }
}
