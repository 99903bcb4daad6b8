import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import {
  envelopeFromHeaders,
  isEventType,
  isStorableText,
  JOB_FAILED_V1,
  JobFailedV1Schema,
  TOPICS,
  toStorableText,
  toStorableValue,
  type JobFailedV1,
  type Envelope,
  type ServiceName,
} from '@troupe/contracts';
import {
  consumedMessages,
  consumerBatchSeconds,
  consumerCommitDelay,
  consumerFetchDelay,
  contextFromHeaders,
} from '@troupe/telemetry';
import type { Logger } from 'pino';
import { isObservable, lastValueFrom } from 'rxjs';
import type { DataSource, EntityManager } from 'typeorm';
import { ChunkWrites } from './batch-writes';
import { deadLetterRecord, REPLAY_HEADER } from './dead-letter';
import { eventDataSchema } from './event-schemas';
import { backoffDelay, classifyError, errorCode, errorMessage, PermanentError, sleep } from './errors';
import type { BatchControls, ConsumedBatch, ConsumedMessage, ConsumerHandle, ConsumerState, KafkaGateway } from './kafka-gateway';
import { LagMonitor } from './lag-monitor';
import { MessageContext, type PrepareContext, type PreparedOutcome } from './message-context';
import { appendToOutbox, toOutboxRecord, type OutboxRecord } from './outbox';

export interface InboxTransportOptions {
  service: ServiceName;
  /** Consumer group and inbox consumer name; defaults to `troupe-<service>`. */
  consumer?: string;
  gateway: KafkaGateway;
  dataSource: DataSource;
  logger: Logger;
  /** Messages per database transaction. */
  batchSize: number;
  /** Tries for a message failing with an unclassified error before it is dead-lettered. */
  maxAttempts: number;
  /** Partitions whose batches of one fetch are handed over, and processed in shared chunks, together (64). */
  partitionsConcurrently?: number;
  /**
   * Skip the events of jobs in this service's `cancelled_jobs` (see `markJobCancelled`): a
   * cancelled job does no more work here. `job.cancel-requested` itself is always handled.
   */
  dropCancelledJobs?: boolean;
  /**
   * Awaited before each chunk: a service whose handlers hand work to something slower (generation's
   * step executor) holds consumption here while that is full, instead of queueing without bound.
   */
  gate?: ConsumerGate;
  /** How often the group's lag is read from the broker (0: never). */
  lagIntervalMs?: number;
  /** Told when the consumer is joining its group and when it consumes (readiness reads it). */
  onState?: (state: ConsumerState) => void;
  /** How often slow work heartbeats the group (a third of the session timeout or less). */
  heartbeatIntervalMs?: number;
  /** Test seam: runs after the database commit and before the Kafka offset commit. */
  afterCommit?: (messages: ConsumedMessage[]) => Promise<void>;
}

/** Events that still reach the handlers of a cancelled job: the cancel itself, and erasing its data. */
const REACH_CANCELLED_JOBS = new Set<string>([TOPICS.jobCancelRequested, TOPICS.jobDataEraseRequested]);

/** Backpressure for a consumer: resolves when the service can take another chunk. */
export interface ConsumerGate {
  wait(): Promise<void>;
}

interface Decoded {
  message: ConsumedMessage;
  eventId: string;
  envelope?: Envelope;
  data?: unknown;
  failure?: PermanentError;
  /** The outcome of the message's prepare handler, kept across retries of the chunk's transaction. */
  prepared?: PreparedOutcome;
  /** From a raw topic: not a job event, so a failure emits no job.failed. */
  raw?: boolean;
}

/** Prefix of the pattern of a prepare handler: `@EventPattern(preparePattern(topic))`. */
export const PREPARE_PREFIX = 'prepare:';

/**
 * The pattern of a topic's *prepare* handler. It runs before the chunk's database transaction, for
 * every new message of the chunk concurrently, with no transaction open: the place for slow I/O
 * (model calls). Its result reaches the topic's handler as `ctx.prepared()`, inside the transaction.
 */
export const preparePattern = (topic: string) => `${PREPARE_PREFIX}${topic}`;

const tracer = trace.getTracer('@troupe/messaging');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Handler extras for topics whose messages are not Troupe events:
 * - `@EventPattern(topic, { [RAW_MESSAGES]: true })`, for topics other systems write to without
 *   CloudEvents headers (signals): the handler gets the parsed JSON value (headers on `ctx.headers`)
 *   and validates it itself. The inbox key is the `ce_id` header if there is one, else the message's
 *   position (or, for a replay, the dead letter it replays).
 * - `{ [RAW_MESSAGES]: 'record' }` (dead-letter topics): the handler gets the whole ConsumedMessage,
 *   value unparsed, keyed by position (a dead letter carries its original's `ce_id`).
 */
export const RAW_MESSAGES = 'troupe.raw';

/**
 * Handler extra `@EventPattern(topic, { [OBSERVES_JOBS]: true })`: the handler watches the job
 * (a read model, a target to remember, a cancel to apply) but does not own its next step. A message
 * it must dead-letter is dead-lettered without a job.failed: the stage that owns the step fails the
 * job, once.
 */
export const OBSERVES_JOBS = 'troupe.observer';

/** The message's value as JSON, when it is JSON at all (a message failing its schema may still name its target). */
function parsedValue(message: ConsumedMessage): unknown {
  try {
    return JSON.parse(message.value?.toString('utf8') ?? '');
  } catch {
    return undefined;
  }
}

/** The target of a job, from a failed event's job context when it has one (for the job.failed notification). */
function jobTarget(data: unknown): Pick<JobFailedV1, 'webhook' | 'workflow' | 'metadata'> {
  if (typeof data !== 'object' || data === null) return {};
  // Field by field: an event failing its schema elsewhere may still name a valid webhook.
  const fields = JobFailedV1Schema.pick({ webhook: true, workflow: true, metadata: true }).shape;
  const value = data as Record<string, unknown>;
  const webhook = fields.webhook.safeParse(value.webhook);
  const workflow = fields.workflow.safeParse(value.workflow);
  const metadata = fields.metadata.safeParse(value.metadata);
  return {
    webhook: webhook.success ? webhook.data : undefined,
    workflow: workflow.success ? workflow.data : undefined,
    metadata: metadata.success ? metadata.data : undefined,
  };
}

/** What a chunk's processing needs of its partitions' controls (offsets are committed after it). */
type ChunkControls = Pick<BatchControls, 'active' | 'heartbeat'>;

/** A partition's batch waiting to be processed with the others of the same fetch. */
interface GatheredBatch {
  batch: ConsumedBatch;
  controls: BatchControls;
  receivedAt: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

class ShutdownInProgress extends Error {
  constructor() {
    super('the consumer is shutting down; the chunk is left for redelivery');
    this.name = 'ShutdownInProgress';
  }
}

/**
 * A NestJS transport that runs `@EventPattern(topic)` handlers as idempotent consumers.
 *
 * The batches of one fetch (one per partition) are processed together in chunks of `batchSize`
 * messages, each chunk in one database transaction holding the handlers' effects, the inbox rows
 * and the outbox rows they emit; each partition's Kafka offset is committed only after that
 * transaction. A redelivered event finds its inbox row and
 * is skipped. When a chunk fails, its messages are retried one by one so that a poison message is
 * isolated: permanent failures are dead-lettered at once, others after `maxAttempts`, and
 * infrastructure outages are waited out. A poison message never blocks its partition.
 */
export class InboxTransport extends Server implements CustomTransportStrategy {
  private handle?: ConsumerHandle;
  private lagMonitor?: LagMonitor;
  /** Aborted by close(): prepare handlers stop their slow work, and the chunk is left uncommitted. */
  private readonly stopping = new AbortController();
  private readonly handlers = new Map<string, MessageHandler | null>();
  private gathering?: GatheredBatch[];
  readonly consumer: string;

  constructor(private readonly options: InboxTransportOptions) {
    super();
    this.consumer = options.consumer ?? `troupe-${options.service}`;
  }

  listen(callback: (err?: unknown) => void): void {
    this.start().then(
      () => callback(),
      (err) => callback(err),
    );
  }

  /** Stops consuming after the chunk in progress has committed. */
  async close(): Promise<void> {
    this.stopping.abort();
    const handle = this.handle;
    this.handle = undefined;
    await this.lagMonitor?.stop();
    await handle?.stop();
  }

  on(): never {
    throw new Error('InboxTransport has no events to subscribe to');
  }

  unwrap<T>(): T {
    return this.options.gateway as T;
  }

  /** Nest's lookup tries JSON.parse on the pattern every time (a thrown SyntaxError for a topic name): looked up once per topic. */
  override getHandlerByPattern(pattern: string): MessageHandler | null {
    let handler = this.handlers.get(pattern);
    if (handler === undefined) {
      handler = super.getHandlerByPattern(pattern);
      this.handlers.set(pattern, handler);
    }
    return handler;
  }

  private async start(): Promise<void> {
    this.handlers.clear(); // handlers are all registered by now
    const topics = [...this.messageHandlers.keys()].filter((pattern) => !pattern.startsWith(PREPARE_PREFIX));
    if (topics.length === 0) return;
    this.handle = await this.options.gateway.consume({
      groupId: this.consumer,
      topics,
      // Every partition's batch of a fetch at once, so that they share chunks (onBatch).
      partitionsConcurrently: this.options.partitionsConcurrently ?? 64,
      onBatch: (batch, controls) => this.onBatch(batch, controls),
      onState: this.options.onState,
    });
    this.options.logger.info({ consumer: this.consumer, topics }, 'consuming');
    this.lagMonitor = new LagMonitor({
      gateway: this.options.gateway,
      logger: this.options.logger,
      consumer: this.consumer,
      topics,
      intervalMs: this.options.lagIntervalMs ?? 0,
    });
    this.lagMonitor.start();
  }

  /**
   * kafkajs hands over the batches of one fetch (one per partition) at the same moment: they are
   * gathered and processed together, so that a chunk, and its transaction, spans partitions.
   */
  private onBatch(batch: ConsumedBatch, controls: BatchControls): Promise<void> {
    const receivedAt = Date.now();
    const fetchDelay = consumerFetchDelay.labels({ consumer: this.consumer, topic: batch.topic });
    for (const m of batch.messages) if (m.timestamp) fetchDelay.observe((receivedAt - m.timestamp) / 1000);
    return new Promise<void>((resolve, reject) => {
      if (!this.gathering) {
        const group: GatheredBatch[] = (this.gathering = []);
        setImmediate(() => {
          this.gathering = undefined;
          this.processBatches(group).then(
            () => group.forEach((b) => b.resolve()),
            (error) => group.forEach((b) => b.reject(error)),
          );
        });
      }
      this.gathering.push({ batch, controls, receivedAt, resolve, reject });
    });
  }

  /**
   * Cuts the gathered batches into chunks of `batchSize` messages, each partition's messages in
   * order; each chunk is one transaction, after which each partition in it commits its offset.
   */
  private async processBatches(group: GatheredBatch[]): Promise<void> {
    const entries = group.flatMap((member) => member.batch.messages.map((message) => ({ message, member })));
    const size = this.options.batchSize;
    for (let i = 0; i < entries.length; i += size) {
      if (this.options.gate) await this.held(entries[i].member.controls, this.options.gate);
      // A partition no longer ours (shutdown, rebalance) is left to whoever owns it next.
      const slice = entries.slice(i, i + size).filter((e) => e.member.controls.active());
      if (slice.length === 0) continue;
      const chunk = slice.map((e) => e.message);
      const members = [...new Set(slice.map((e) => e.member))];
      const timer = consumerBatchSeconds.startTimer({ consumer: this.consumer });
      await this.processChunk(chunk, {
        active: () => members.every((m) => m.controls.active()),
        heartbeat: () => members[0].controls.heartbeat(),
      });
      timer();
      await this.options.afterCommit?.(chunk);
      const last = new Map<GatheredBatch, string>();
      for (const e of slice) last.set(e.member, e.message.offset);
      // Called together: the gateway sends them as one request.
      await Promise.all(members.map((m) => m.controls.commit(last.get(m)!)));
      const committedAt = Date.now();
      for (const e of slice) {
        consumerCommitDelay.observe({ consumer: this.consumer, topic: e.message.topic }, (committedAt - e.member.receivedAt) / 1000);
      }
      await members[0].controls.heartbeat();
    }
  }

  /** Waits at the gate, heartbeating so the group keeps this member while it waits. */
  private async held(controls: Pick<BatchControls, 'heartbeat'>, gate: ConsumerGate): Promise<void> {
    const heartbeat = setInterval(() => void controls.heartbeat().catch(() => undefined), this.options.heartbeatIntervalMs ?? 1_000);
    try {
      await gate.wait();
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async processChunk(messages: ConsumedMessage[], controls: ChunkControls): Promise<void> {
    await this.processDecoded(messages.map((m) => this.decode(m)), controls);
  }

  private async processDecoded(decoded: Decoded[], controls: ChunkControls): Promise<void> {
    let attempts = 0;
    let outages = 0;
    for (;;) {
      try {
        await this.prepare(decoded, controls);
        // Prepared work cut short by a shutdown is not recorded: the chunk is redelivered instead.
        if (this.stopping.signal.aborted && decoded.some((d) => d.prepared)) throw new ShutdownInProgress();
        const afterCommit = await this.options.dataSource.transaction((manager) => this.handleInTransaction(manager, decoded));
        for (const callback of afterCommit) {
          try {
            callback();
          } catch (err) {
            this.options.logger.error({ err }, 'an after-commit callback failed');
          }
        }
        return;
      } catch (error) {
        if (error instanceof ShutdownInProgress) throw error; // leave the offsets uncommitted
        const kind = classifyError(error);
        if (kind === 'infrastructure') {
          outages++;
          this.options.logger.warn({ err: error, outages }, 'infrastructure unavailable; retrying the batch');
          if (!controls.active()) throw error; // shutting down: leave the offsets uncommitted
          await sleep(backoffDelay(outages, 500, 30_000));
          continue;
        }
        if (decoded.length > 1) {
          // Isolate the failing message: the others commit on their own.
          // Prepared results travel along: a message's model calls are not repeated because a neighbour failed.
          for (const d of decoded) await this.processDecoded([d], controls);
          return;
        }
        attempts++;
        // A failed preparation is retried with the message; a successful one is kept.
        if (decoded[0].prepared && !decoded[0].prepared.ok) decoded[0].prepared = undefined;
        if (kind === 'permanent' || attempts >= this.options.maxAttempts) {
          await this.deadLetter(decoded[0], error, attempts);
          return;
        }
        this.options.logger.warn({ err: error, attempts, offset: decoded[0].message.offset }, 'handler failed; retrying');
        await sleep(backoffDelay(attempts));
      }
    }
  }

  private async handleInTransaction(manager: EntityManager, decoded: Decoded[]): Promise<(() => void)[]> {
    const { fresh, cancelled } = await this.claimInbox(manager, decoded);
    const writes = new ChunkWrites();
    const outbox: OutboxRecord[] = [];
    const afterCommit: (() => void)[] = [];
    // Counted once committed: a chunk whose transaction is retried is not counted twice.
    const count = (d: Decoded, outcome: string) =>
      afterCommit.push(() => consumedMessages.inc({ consumer: this.consumer, topic: d.message.topic, outcome }));
    for (const d of decoded) {
      if (!fresh.delete(d.eventId)) {
        count(d, 'duplicate');
        continue;
      }
      if (this.isCancelled(d, cancelled)) {
        count(d, 'cancelled');
        continue;
      }
      if (d.failure) {
        outbox.push(...this.failureRecords(d, d.failure, 1));
        count(d, 'dead_lettered');
        continue;
      }
      const handler = this.getHandlerByPattern(d.message.topic);
      if (!handler || !d.envelope) continue;
      const ctx = new MessageContext(
        this.options.service,
        d.envelope,
        d.message.topic,
        d.message.partition,
        d.message.offset,
        manager,
        writes,
        d.message.headers,
        d.message.key,
        d.prepared,
        afterCommit,
      );
      await this.traced(d, async () => {
        const result = await handler(d.data, ctx);
        if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
      });
      outbox.push(...ctx.emitted);
      count(d, 'processed');
    }
    await writes.flush(manager);
    await appendToOutbox(manager, outbox);
    return afterCommit;
  }

  /** A cancelled job's event, to be dropped (never the cancel request itself, nor an erasure of its data). */
  private isCancelled(d: Decoded, cancelled: Set<string>): boolean {
    return cancelled.size > 0 && !!d.envelope && cancelled.has(d.envelope.subject) && !REACH_CANCELLED_JOBS.has(d.message.topic);
  }

  /** Job ids of the chunk's events, for the `cancelled_jobs` lookup (raw messages name no job). */
  private jobIds(decoded: Decoded[]): string[] {
    if (!this.options.dropCancelledJobs) return [];
    return [...new Set(decoded.filter((d) => !d.raw && d.envelope && UUID.test(d.envelope.subject)).map((d) => d.envelope!.subject))];
  }

  /**
   * Runs the prepare handlers of the chunk's new messages concurrently, before (and outside) the
   * transaction, so slow calls hold no database connection or row lock. Messages the inbox already
   * holds are skipped (a redelivery repeats no model call). Heartbeats keep the group membership
   * while calls take long.
   */
  private async prepare(decoded: Decoded[], controls: ChunkControls): Promise<void> {
    const pending = decoded.filter(
      (d) => !d.prepared && !d.failure && d.envelope && this.getHandlerByPattern(preparePattern(d.message.topic)),
    );
    if (pending.length === 0) return;
    let known = new Set<string>();
    let cancelled = new Set<string>();
    try {
      const jobIds = this.jobIds(pending);
      const rows: { kind: 'event' | 'job'; id: string }[] = await this.options.dataSource.query(
        `SELECT 'event' AS kind, event_id AS id FROM inbox WHERE consumer = $1 AND event_id = ANY($2::text[])` +
          (jobIds.length ? ` UNION ALL SELECT 'job', job_id::text FROM cancelled_jobs WHERE job_id = ANY($3::uuid[])` : ''),
        jobIds.length ? [this.consumer, pending.map((d) => d.eventId), jobIds] : [this.consumer, pending.map((d) => d.eventId)],
      );
      known = new Set(rows.filter((r) => r.kind === 'event').map((r) => r.id));
      cancelled = new Set(rows.filter((r) => r.kind === 'job').map((r) => r.id));
    } catch {
      // Only an optimisation: the transaction's inbox claim is what decides duplicates and cancellations.
    }
    const heartbeat = setInterval(() => void controls.heartbeat().catch(() => undefined), this.options.heartbeatIntervalMs ?? 1_000);
    try {
      await Promise.all(
        pending
          .filter((d) => !known.has(d.eventId) && !this.isCancelled(d, cancelled))
          .map(async (d) => {
            const handler = this.getHandlerByPattern(preparePattern(d.message.topic))!;
            try {
              let value: unknown;
              await this.traced(d, async () => {
                const ctx: PrepareContext = { envelope: d.envelope!, topic: d.message.topic, signal: this.stopping.signal };
                const result = await handler(d.data, ctx);
                value = isObservable(result) ? await lastValueFrom(result, { defaultValue: undefined }) : result;
              }, 'prepare');
              d.prepared = { ok: true, value };
            } catch (error) {
              d.prepared = { ok: false, error };
            }
          }),
      );
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * Inserts inbox rows for the whole chunk in one statement; returns the ids that were new, and
   * (with `dropCancelledJobs`) which of the chunk's jobs are cancelled, in the same round trip.
   */
  private async claimInbox(manager: EntityManager, decoded: Decoded[]): Promise<{ fresh: Set<string>; cancelled: Set<string> }> {
    const jobIds = this.jobIds(decoded);
    const params: unknown[] = [
      this.consumer,
      decoded.map((d) => d.eventId),
      decoded.map((d) => d.message.topic),
      decoded.map((d) => d.message.partition),
      decoded.map((d) => d.message.offset),
    ];
    const insert = `INSERT INTO inbox (consumer, event_id, topic, partition, "offset")
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[], $5::bigint[])
       ON CONFLICT DO NOTHING RETURNING event_id`;
    if (jobIds.length === 0) {
      const rows: { event_id: string }[] = await manager.query(insert, params);
      return { fresh: new Set(rows.map((r) => r.event_id)), cancelled: new Set() };
    }
    const rows: { kind: 'event' | 'job'; id: string }[] = await manager.query(
      `WITH claimed AS (${insert})
       SELECT 'event' AS kind, event_id AS id FROM claimed
       UNION ALL SELECT 'job', job_id::text FROM cancelled_jobs WHERE job_id = ANY($6::uuid[])`,
      [...params, jobIds],
    );
    return {
      fresh: new Set(rows.filter((r) => r.kind === 'event').map((r) => r.id)),
      cancelled: new Set(rows.filter((r) => r.kind === 'job').map((r) => r.id)),
    };
  }

  private async deadLetter(d: Decoded, error: unknown, attempts: number): Promise<void> {
    const failure = new PermanentError(errorCode(error), errorMessage(error));
    this.options.logger.error(
      { err: error, topic: d.message.topic, partition: d.message.partition, offset: d.message.offset, attempts },
      'dead-lettering message',
    );
    const lettered = await this.options.dataSource.transaction(async (manager) => {
      const { fresh } = await this.claimInbox(manager, [d]);
      if (!fresh.has(d.eventId)) return false;
      await appendToOutbox(manager, this.failureRecords(d, failure, attempts));
      return true;
    });
    if (lettered) consumedMessages.inc({ consumer: this.consumer, topic: d.message.topic, outcome: 'dead_lettered' });
  }

  /** The dead letter, plus a job.failed event so the job does not silently stall. */
  private failureRecords(d: Decoded, failure: PermanentError, attempts: number): OutboxRecord[] {
    const records = [
      deadLetterRecord(this.options.service, this.consumer, d.message, {
        code: failure.code,
        reason: failure.message,
        attempts,
      }),
    ];
    const jobId = d.envelope?.subject ?? d.message.key ?? undefined;
    const tenantId = d.envelope?.tenantid ?? d.message.headers['ce_tenantid'];
    const observer = this.getHandlerByPattern(d.message.topic)?.extras?.[OBSERVES_JOBS] === true;
    // Never answer a failed job.failed with another job.failed: that would loop. Raw messages are
    // not jobs. An observer leaves failing the job to the stage that owns its step.
    if (jobId && tenantId && isStorableText(jobId) && isStorableText(tenantId) && !d.raw && !observer && d.message.topic !== TOPICS.jobFailed) {
      records.push(
        toOutboxRecord(
          {
            type: JOB_FAILED_V1,
            data: {
              jobId,
              tenantId,
              stage: this.options.service,
              code: failure.code,
              reason: toStorableText(failure.message),
              failedTopic: d.message.topic,
              ...toStorableValue(jobTarget(d.data ?? parsedValue(d.message))),
            },
          },
          {
            service: this.options.service,
            correlationId: d.envelope?.correlationid ?? jobId,
            causationId: d.envelope?.id,
          },
        ),
      );
    }
    return records;
  }

  private decode(message: ConsumedMessage): Decoded {
    const fallbackId = `${message.topic}/${message.partition}/${message.offset}`;
    const replayOf = message.headers[REPLAY_HEADER];
    // A replay is keyed by the dead letter it replays (unique across stages): its first replay is
    // processed even though the original id is in the inbox, a second replay is a duplicate.
    const replayed = (id: string) => (replayOf ? `replay:${replayOf}` : id);
    const raw = this.getHandlerByPattern(message.topic)?.extras?.[RAW_MESSAGES];
    if (raw === 'record') return { message, eventId: fallbackId, envelope: this.rawEnvelope(message, fallbackId), data: message, raw: true };
    if (raw) return this.decodeRaw(message, fallbackId);
    let envelope: Envelope;
    try {
      envelope = envelopeFromHeaders(message.headers);
    } catch (error) {
      return {
        message,
        eventId: replayed(message.headers['ce_id'] || fallbackId),
        failure: new PermanentError('INVALID_ENVELOPE', `CloudEvents headers invalid: ${errorMessage(error)}`),
      };
    }
    const base = { message, eventId: replayed(envelope.id), envelope };
    if (!isEventType(envelope.type)) {
      return { ...base, failure: new PermanentError('UNKNOWN_EVENT_TYPE', `unknown event type ${envelope.type}`) };
    }
    let json: unknown;
    try {
      json = JSON.parse(message.value?.toString('utf8') ?? '');
    } catch (error) {
      return { ...base, failure: new PermanentError('INVALID_JSON', `value is not JSON: ${errorMessage(error)}`) };
    }
    const parsed = eventDataSchema(envelope.type).safeParse(json);
    if (!parsed.success) {
      return { ...base, failure: new PermanentError('SCHEMA_VIOLATION', errorMessage(parsed.error)) };
    }
    return { ...base, data: parsed.data };
  }

  private decodeRaw(message: ConsumedMessage, fallbackId: string): Decoded {
    const replayOf = message.headers[REPLAY_HEADER];
    // A replay's position is new each time: key it by the dead letter it replays.
    const eventId = replayOf ? `replay:${replayOf}` : message.headers['ce_id'] || fallbackId;
    const base = { message, eventId, envelope: this.rawEnvelope(message, eventId), raw: true };
    try {
      return { ...base, data: JSON.parse(message.value?.toString('utf8') ?? '') };
    } catch (error) {
      return { ...base, failure: new PermanentError('INVALID_JSON', `value is not JSON: ${errorMessage(error)}`) };
    }
  }

  /** What a raw message's handler sees as `ctx.envelope`: its own attributes where it has them. */
  private rawEnvelope(message: ConsumedMessage, eventId: string): Envelope {
    return {
      id: eventId,
      source: message.headers['ce_source'] || `kafka:${message.topic}`,
      type: message.headers['ce_type'] || 'raw',
      specversion: '1.0',
      time: new Date().toISOString(),
      subject: message.key ?? eventId,
      tenantid: message.headers['ce_tenantid'] || '-',
      correlationid: message.headers['ce_correlationid'] || eventId,
    };
  }

  private async traced(d: Decoded, work: () => Promise<void>, operation: 'process' | 'prepare' = 'process'): Promise<void> {
    const parent = contextFromHeaders(d.message.headers);
    const span = tracer.startSpan(
      `${operation} ${d.message.topic}`,
      {
        kind: operation === 'process' ? SpanKind.CONSUMER : SpanKind.INTERNAL,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.operation.name': operation,
          'messaging.destination.name': d.message.topic,
          'messaging.consumer.group.name': this.consumer,
          'messaging.message.id': d.eventId,
          'messaging.kafka.offset': Number(d.message.offset),
          'messaging.destination.partition.id': String(d.message.partition),
          'troupe.job.id': d.envelope?.subject ?? '',
          'troupe.tenant.id': d.envelope?.tenantid ?? '',
        },
      },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), work);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
      throw error;
    } finally {
      span.end();
    }
  }
}
