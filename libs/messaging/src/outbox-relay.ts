import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { contextFromHeaders, outboxPending, outboxPublishDelay, outboxPublished, traceHeaders } from '@troupe/telemetry';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { PollingLoop } from './polling-loop';
import type { KafkaGateway, ProducedMessage } from './kafka-gateway';
import { whenOutboxCommits, type CommittedOutboxRows, type OutboxRecord } from './outbox';

export interface OutboxRelayOptions {
  service: string;
  dataSource: DataSource;
  gateway: KafkaGateway;
  logger: Logger;
  batchSize: number;
  /** The fallback for rows this process did not write (another replica's, after its crash). */
  pollIntervalMs: number;
  /** Sent rows older than this are deleted. */
  retentionMs?: number;
}

interface OutboxRow {
  seq: string;
  id: string;
  topic: string;
  key: string | null;
  headers: Record<string, string>;
  value: Buffer;
  created_at: Date;
}

const tracer = trace.getTracer('@troupe/messaging');

/**
 * Marking rows sent commits without waiting for its WAL flush (`synchronous_commit` off for that
 * transaction only; `set_config(..., true)` ends with it, so pooled sessions keep synchronous commits).
 * A mark lost in a database crash only makes the row look unsent: it is published again and the
 * consumers' inboxes drop the copy, as after a relay that died between publishing and marking. The
 * rows themselves, and every handler's transaction, stay synchronous. See ADR 0027.
 */
const ASYNC_COMMIT = `WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true))`;
export const MARK_SENT_BY_ID = `${ASYNC_COMMIT} UPDATE outbox SET sent_at = now() FROM async_commit WHERE id = ANY($1::uuid[]) AND sent_at IS NULL`;
const MARK_SENT_BY_SEQ = `${ASYNC_COMMIT} UPDATE outbox SET sent_at = now() FROM async_commit WHERE seq = ANY($1::bigint[])`;

/** Committed rows queued for the direct path at most; past it the claim path takes over. */
const MAX_QUEUED = 10_000;

/**
 * Rows the direct path does not know of (another replica's after its crash) are claimed once they
 * are this old: well past the direct path's usual few milliseconds, so both seldom publish a row.
 */
const UNQUEUED_AGE_MS = 5_000;

interface QueuedRecord {
  record: OutboxRecord;
  writtenAt: number;
}

/**
 * Publishes outbox rows to Kafka, each only after the transaction that wrote it has committed, and
 * marks them sent. Two paths (ADR 0026):
 *
 * - direct: a transaction of this process that appended rows has committed; the relay is handed
 *   those rows, publishes them with the idempotent producer and marks them sent by id: one statement,
 *   no reading back of what was just written;
 * - claim: at start, after any failure, and for rows this process did not write (another replica's,
 *   after its crash), it claims unsent rows in `seq` order with FOR UPDATE SKIP LOCKED (replicas
 *   share them), publishes and marks them sent in the claiming transaction.
 *
 * Either way a crash between publish and marking republishes the rows: consumers deduplicate by
 * event id. The direct path starts only once the claim path found nothing left, and any failure
 * sends the relay back to it, so a job's events leave in the order they were committed.
 */
export class OutboxRelay {
  private running = false;
  private unsubscribe?: () => void;
  private readonly loop: PollingLoop;
  private lastPurge = 0;
  private lastClaim = 0;
  /** Committed rows are queued for the direct path (from the first claim pass on; off after a failure). */
  private direct = false;
  /** The claim path found the table's backlog published: the queue goes next. */
  private drained = false;
  private queued: QueuedRecord[] = [];

  constructor(private readonly options: OutboxRelayOptions) {
    this.loop = new PollingLoop({
      pass: () => this.pass(),
      idleMs: options.pollIntervalMs,
      onError: (err, failures) => {
        this.leaveDirectPath();
        options.logger.error({ err, failures }, 'outbox relay: publish failed; will retry');
      },
    });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = whenOutboxCommits(this.options.dataSource, (committed) => this.committed(committed));
    this.loop.start();
  }

  /** Stops after the batch in progress; rows still unsent are left to `drain()` or the next start. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribe?.();
    await this.loop.stop();
    this.leaveDirectPath();
  }

  /** Publishes every pending row now (used at shutdown and by tests). Returns how many were sent. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const sent = await this.claimAndPublish(0);
      total += sent;
      if (sent < this.options.batchSize) return total;
    }
  }

  private committed({ records, writtenAt }: CommittedOutboxRows): void {
    if (this.direct) {
      if (this.queued.length + records.length > MAX_QUEUED) this.leaveDirectPath();
      else for (const record of records) this.queued.push({ record, writtenAt });
    }
    this.loop.poke();
  }

  /** Back to the claim path, which publishes everything from the table in order; what was queued is there. */
  private leaveDirectPath(): void {
    this.direct = false;
    this.drained = false;
    this.queued = [];
  }

  /**
   * One round; true when more is waiting now. A commit during the round pokes the loop, which then
   * runs again at once: no empty round after every batch.
   */
  private async pass(): Promise<boolean> {
    let more: boolean;
    if (!this.drained) {
      // Queue from now on: a commit is then seen by this claim or queued (both: the claim publishes
      // it and it leaves the queue). The queue goes once the table's backlog is out, after it.
      if (this.running) this.direct = true;
      const sent = await this.claimAndPublish(0);
      this.drained = sent < this.options.batchSize && this.direct;
      more = !this.drained || this.queued.length > 0;
    } else {
      more = await this.publishQueued();
      if (!more && Date.now() - this.lastClaim >= this.options.pollIntervalMs) {
        more = (await this.claimAndPublish(UNQUEUED_AGE_MS)) >= this.options.batchSize;
      }
    }
    await this.purgeIfDue();
    return more;
  }

  /** The direct path: publishes a batch of committed rows handed over by this process. */
  private async publishQueued(): Promise<boolean> {
    if (this.queued.length === 0) return false;
    const batch = this.queued.splice(0, this.options.batchSize);
    await this.publish(batch.map(({ record, writtenAt }) => ({ ...record, writtenAt })));
    await this.options.dataSource.query(MARK_SENT_BY_ID, [batch.map(({ record }) => record.id)]);
    outboxPublished.inc({ service: this.options.service }, batch.length);
    return this.queued.length > 0;
  }

  /**
   * The claim path: claims unsent rows (written at least `minAgeMs` ago, and not queued here) in
   * `seq` order, publishes them and marks them sent in the claiming transaction.
   */
  private async claimAndPublish(minAgeMs: number): Promise<number> {
    this.lastClaim = Date.now();
    const runner = this.options.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      // Sent rows leave dead entries in the unsent index until vacuum. A bitmap scan (the planner's
      // usual choice here) visits every one of them in the heap on every pass; min() is an index
      // scan, which marks them dead on first sight, and the range then starts past them.
      // The backlog claim takes every unsent row in order, queued or not (leaving a queued one out
      // would let a later row go first); the claim of rows this process did not write leaves the
      // queued ones to the direct path.
      const aged = minAgeMs > 0;
      const rows: OutboxRow[] = await runner.query(
        `SELECT seq, id, topic, key, headers, value, created_at FROM outbox
          WHERE sent_at IS NULL AND seq >= (SELECT min(seq) FROM outbox WHERE sent_at IS NULL)` +
          (aged ? ` AND created_at < now() - ($2 || ' milliseconds')::interval AND NOT (id = ANY($3::uuid[]))` : '') +
          ` ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        aged ? [this.options.batchSize, String(minAgeMs), this.queued.map((q) => q.record.id)] : [this.options.batchSize],
      );
      if (rows.length === 0) {
        await runner.commitTransaction();
        if (minAgeMs === 0) outboxPending.set({ service: this.options.service }, 0);
        return 0;
      }
      await this.publish(rows.map((row) => ({ ...row, writtenAt: row.created_at.getTime() })));
      await runner.query(MARK_SENT_BY_SEQ, [rows.map((r) => r.seq)]);
      await runner.commitTransaction();
      outboxPublished.inc({ service: this.options.service }, rows.length);
      const claimed = new Set(rows.map((r) => r.id));
      if (this.queued.length > 0) this.queued = this.queued.filter((q) => !claimed.has(q.record.id));
      return rows.length;
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await runner.release();
    }
  }

  /** Produces the rows (each with a producer span continuing its trace) and records their delay. */
  private async publish(rows: (Pick<OutboxRecord, 'id' | 'topic' | 'key' | 'headers' | 'value'> & { writtenAt: number })[]): Promise<void> {
    const spans = rows.map((row) =>
      tracer.startSpan(
        `send ${row.topic}`,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            'messaging.system': 'kafka',
            'messaging.operation.type': 'send',
            'messaging.operation.name': 'send',
            'messaging.destination.name': row.topic,
            'messaging.message.id': row.id,
            'messaging.kafka.message.key': row.key ?? '',
          },
        },
        contextFromHeaders(row.headers),
      ),
    );
    const messages: ProducedMessage[] = rows.map((row, i) => ({
      topic: row.topic,
      key: row.key,
      value: row.value,
      // The consumer's span becomes a child of this publish span: the trace goes on unbroken.
      headers: { ...row.headers, ...traceHeaders(trace.setSpan(context.active(), spans[i])) },
    }));
    try {
      await this.options.gateway.produce(messages);
    } catch (err) {
      spans.forEach((s) => {
        s.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
        s.end();
      });
      throw err;
    }
    spans.forEach((s) => s.end());
    const publishedAt = Date.now();
    for (const row of rows) {
      outboxPublishDelay.observe({ service: this.options.service, topic: row.topic }, (publishedAt - row.writtenAt) / 1000);
    }
  }

  private async purgeIfDue(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPurge < 10 * 60_000) return;
    this.lastPurge = now;
    const retentionMs = this.options.retentionMs ?? 24 * 60 * 60_000;
    await this.options.dataSource.query(
      `DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < now() - ($1 || ' milliseconds')::interval`,
      [String(retentionMs)],
    );
    // Inbox rows must outlive any redelivery: keep them twice the topics' 7-day retention.
    await this.options.dataSource.query(`DELETE FROM inbox WHERE processed_at < now() - interval '14 days'`);
    const [{ count }] = await this.options.dataSource.query(
      `SELECT count(*)::int AS count FROM outbox WHERE sent_at IS NULL`,
    );
    outboxPending.set({ service: this.options.service }, count);
  }
}
