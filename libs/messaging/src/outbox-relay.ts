import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { contextFromHeaders, outboxPending, outboxPublishDelay, outboxPublished, traceHeaders } from '@troupe/telemetry';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { PollingLoop } from './polling-loop';
import type { KafkaGateway, ProducedMessage } from './kafka-gateway';
import { whenOutboxCommits } from './outbox';

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
 * Publishes outbox rows to Kafka. Wakes as soon as a transaction of this process that appended
 * outbox rows commits, with a polling fallback; claims rows with FOR UPDATE SKIP LOCKED so several
 * replicas can run; publishes a batch with the idempotent producer and marks it sent in the same
 * transaction that claimed it. A crash between publish and commit republishes the batch: consumers
 * deduplicate by event id.
 */
export class OutboxRelay {
  private running = false;
  private unsubscribe?: () => void;
  private readonly loop: PollingLoop;
  private lastPurge = 0;

  constructor(private readonly options: OutboxRelayOptions) {
    this.loop = new PollingLoop({
      pass: () => this.pass(),
      idleMs: options.pollIntervalMs,
      onError: (err, failures) => options.logger.error({ err, failures }, 'outbox relay: publish failed; will retry'),
    });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = whenOutboxCommits(this.options.dataSource, () => this.loop.poke());
    this.loop.start();
  }

  /** Stops after the batch in progress; publishes what is already committed first. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribe?.();
    await this.loop.stop();
  }

  /** Publishes every pending row now (used at shutdown and by tests). Returns how many were sent. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const sent = await this.publishBatch();
      total += sent;
      if (sent < this.options.batchSize) return total;
    }
  }

  /** One round: publish a batch, purge if due; true while rows keep coming. */
  private async pass(): Promise<boolean> {
    const sent = await this.publishBatch();
    await this.purgeIfDue();
    return sent > 0;
  }

  private async publishBatch(): Promise<number> {
    const runner = this.options.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      // Sent rows leave dead entries in the unsent index until vacuum. A bitmap scan (the planner's
      // usual choice here) visits every one of them in the heap on every pass; min() is an index
      // scan, which marks them dead on first sight, and the range then starts past them.
      const rows: OutboxRow[] = await runner.query(
        `SELECT seq, id, topic, key, headers, value, created_at FROM outbox
          WHERE sent_at IS NULL AND seq >= (SELECT min(seq) FROM outbox WHERE sent_at IS NULL)
          ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.options.batchSize],
      );
      if (rows.length === 0) {
        await runner.commitTransaction();
        outboxPending.set({ service: this.options.service }, 0);
        return 0;
      }
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
        outboxPublishDelay.observe({ service: this.options.service, topic: row.topic }, (publishedAt - row.created_at.getTime()) / 1000);
      }
      await runner.query(`UPDATE outbox SET sent_at = now() WHERE seq = ANY($1::bigint[])`, [rows.map((r) => r.seq)]);
      await runner.commitTransaction();
      outboxPublished.inc({ service: this.options.service }, rows.length);
      return rows.length;
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await runner.release();
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
