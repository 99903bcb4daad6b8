import { Kafka, logLevel, type Admin, type Consumer, type IHeaders, type KafkaConfig, type LogEntry, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { TopicSpec } from '@troupe/contracts';
import { backoffDelay, sleep } from './errors';
import { fixKafkajsRequestQueue } from './kafkajs-request-queue-fix';

fixKafkajsRequestQueue();

/** A message as a consumer sees it: headers decoded to strings. */
export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** The Kafka timestamp (ms since the epoch): when the producer sent it. */
  timestamp?: number;
}

export interface ProducedMessage {
  topic: string;
  key: string | null;
  value: Buffer | string;
  headers: Record<string, string>;
}

export interface ConsumedBatch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: ConsumedMessage[];
}

export interface BatchControls {
  /** Whether the consumer is still running and the batch still assigned (false during shutdown/rebalance). */
  active(): boolean;
  heartbeat(): Promise<void>;
  /** Commits `lastOffset + 1` for the batch's partition. */
  commit(lastOffset: string): Promise<void>;
}

/** A consumer group's position on one partition, as the broker has it. */
export interface PartitionPosition {
  topic: string;
  partition: number;
  /** The group's committed offset (the next message it will read), or null when it has committed none. */
  committed: bigint | null;
  /** The offset the next produced message will get. */
  highWatermark: bigint;
  /** The oldest offset still on the broker. */
  lowWatermark: bigint;
}

/** Where a consumer stands: joining its group (not consuming yet), or a member consuming its partitions. */
export type ConsumerState = 'joining' | 'consuming';

/**
 * Group membership timing. kafkajs 2.2 has no static membership (KIP-345), so a member killed
 * without leaving is evicted only when its session times out: that is how long its partitions stay
 * idle, and how long a replacement waits to join. Hence a short session (6 s, the brokers' default
 * `group.min.session.timeout.ms`) with heartbeats every second; a clean stop leaves the group at once.
 */
export interface GroupTiming {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
}

export const DEFAULT_GROUP_TIMING: GroupTiming = { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000 };

export interface ConsumerHandle {
  stop(): Promise<void>;
  /** How many times the consumer stopped for good after a crash and was replaced. */
  crashes?(): number;
}

/**
 * The narrow Kafka interface every Troupe service uses. kafkajs sits behind it so another client can
 * replace it without touching a service.
 */
export interface KafkaGateway {
  produce(messages: ProducedMessage[]): Promise<void>;
  consume(options: {
    groupId: string;
    topics: string[];
    partitionsConcurrently?: number;
    onBatch: (batch: ConsumedBatch, controls: BatchControls) => Promise<void>;
    /** Told when the consumer is (re)joining its group and when it has joined and is consuming. */
    onState?: (state: ConsumerState) => void;
  }): Promise<ConsumerHandle>;
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  /** Where a consumer group stands on every partition of `topics` (one request per topic plus one). */
  groupPositions(groupId: string, topics: string[]): Promise<PartitionPosition[]>;
  ping(): Promise<void>;
  disconnect(): Promise<void>;
}

/** kafkajs's own log lines, as JSON through the service's logger. */
function logKafkajs(logger: Logger, { level, namespace, log }: LogEntry): void {
  const { message, ...fields } = log;
  // Expected: retries are bounded on purpose (see the constructor).
  if (message.startsWith('Limiting retries for the idempotent producer')) return;
  const line = { kafkajs: namespace, ...fields };
  if (level === logLevel.ERROR) logger.error(line, message);
  else if (level === logLevel.WARN) logger.warn(line, message);
  else logger.debug(line, message);
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[key] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}

/**
 * Waits until every partition of new topics has a leader. kafkajs's own wait (`waitForLeaders`)
 * retries on LEADER_NOT_AVAILABLE only, and gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft
 * broker still answers for a moment after creating a topic (seen on a freshly started broker).
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      if (metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      const type = (err as { type?: string }).type;
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw err;
    }
    if (Date.now() > deadline) throw new Error(`no leader for every partition of ${topics.join(', ')} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

export class KafkajsGateway implements KafkaGateway {
  private readonly kafka: Kafka;
  private producer?: Producer;
  private producerReady?: Promise<Producer>;
  private admin?: Admin;
  private readonly consumers = new Set<Consumer>();

  private readonly logger?: Logger;

  private readonly groupTiming: GroupTiming;

  constructor(options: {
    brokers: string[];
    clientId: string;
    logger?: Logger;
    ssl?: KafkaConfig['ssl'];
    sasl?: KafkaConfig['sasl'];
    groupTiming?: GroupTiming;
  }) {
    const logger = options.logger;
    this.logger = logger;
    this.groupTiming = options.groupTiming ?? DEFAULT_GROUP_TIMING;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      ssl: options.ssl,
      sasl: options.sasl,
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => logger && logKafkajs(logger, entry),
      // Bounded, so a publish fails and the relay retries the batch rather than hanging while the
      // broker is away; a republished event is deduplicated by the consumers' inbox.
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
  }

  private getProducer(): Promise<Producer> {
    if (!this.producerReady) {
      // Idempotent producer: broker-side deduplication of retried sends, ordered per partition.
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      this.producerReady = producer.connect().then(
        () => (this.producer = producer),
        (err) => {
          this.producerReady = undefined;
          throw err;
        },
      );
    }
    return this.producerReady;
  }

  private async getAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }

  async produce(messages: ProducedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = await this.getProducer();
    const byTopic = new Map<string, ProducedMessage[]>();
    for (const m of messages) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m]);
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic,
        messages: list.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
      })),
    });
  }

  async consume(options: Parameters<KafkaGateway['consume']>[0]): Promise<ConsumerHandle> {
    let current: Consumer | undefined;
    let stopped = false;
    let crashes = 0;

    const start = async (): Promise<void> => {
      const consumer = this.kafka.consumer({
        groupId: options.groupId,
        allowAutoTopicCreation: false,
        sessionTimeout: this.groupTiming.sessionTimeoutMs,
        heartbeatInterval: this.groupTiming.heartbeatIntervalMs,
        // How long the broker holds a fetch that finds nothing: data ends the wait at once, so this
        // only sets how often an idle consumer asks (and how long a stop waits for the fetch in flight).
        maxWaitTimeInMs: 1_000,
      });
      current = consumer;
      this.consumers.add(consumer);
      options.onState?.('joining');
      consumer.on(consumer.events.GROUP_JOIN, () => {
        if (current === consumer && !stopped) options.onState?.('consuming');
      });
      // Offsets committed in the same tick (the partitions of one chunk) go in one request.
      let pending: { offsets: { topic: string; partition: number; offset: string }[]; sent: Promise<void> } | undefined;
      const commitSoon = (offset: { topic: string; partition: number; offset: string }): Promise<void> => {
        if (!pending) {
          const offsets: { topic: string; partition: number; offset: string }[] = [];
          const sent = Promise.resolve().then(() => {
            pending = undefined;
            return consumer.commitOffsets(offsets);
          });
          pending = { offsets, sent };
        }
        pending.offsets.push(offset);
        return pending.sent;
      };
      // kafkajs restarts a crashed consumer only after errors it deems retriable. After any other
      // (an error out of a batch handler, a stale group generation after a rebalance under load:
      // tulios/kafkajs#1466) it stays stopped for good while the process still looks healthy.
      // Replace it: offsets are committed only after the database commit, so the new consumer
      // resumes where the old one stopped, and the inbox skips what was already done.
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (stopped || current !== consumer) return;
        options.onState?.('joining'); // kafkajs restarting it, or we replace it below
        if (payload.restart) return;
        crashes++;
        this.logger?.error(
          { err: payload.error, groupId: options.groupId, crashes },
          'consumer stopped after a crash; starting a new one',
        );
        void replace(consumer);
      });
      await consumer.connect();
      await consumer.subscribe({ topics: options.topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.partitionsConcurrently ?? 2,
        eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
          const consumed: ConsumedBatch = {
            topic: batch.topic,
            partition: batch.partition,
            highWatermark: batch.highWatermark,
            messages: batch.messages.map((m) => ({
              topic: batch.topic,
              partition: batch.partition,
              offset: m.offset,
              key: m.key ? m.key.toString('utf8') : null,
              value: m.value,
              headers: decodeHeaders(m.headers),
              timestamp: Number(m.timestamp),
            })),
          };
          try {
            await options.onBatch(consumed, {
              active: () => isRunning() && !isStale(),
              heartbeat,
              commit: async (lastOffset) => {
                // Resolving moves kafkajs's fetch position (committing alone does not: without it
                // the next fetch would start from the same offset again, and every message of the
                // partition would be read, and skipped by the inbox, over and over).
                resolveOffset(lastOffset);
                await commitSoon({ topic: batch.topic, partition: batch.partition, offset: (BigInt(lastOffset) + 1n).toString() });
              },
            });
          } catch (err) {
            // Stopping, or the partition moved to another member: what is uncommitted is redelivered.
            if (stopped || !isRunning() || isStale() || current !== consumer) return;
            // Never rethrown to kafkajs: with concurrent partitions an error out of eachBatch can
            // leave its consumer hanging, neither consuming nor heartbeating, with no crash event.
            // Start a new consumer instead; it resumes from the last commit.
            crashes++;
            this.logger?.error(
              { err, groupId: options.groupId, topic: batch.topic, partition: batch.partition, crashes },
              'batch failed outside the handlers; starting a new consumer',
            );
            void replace(consumer);
          }
        },
      });
    };

    const replace = async (old: Consumer): Promise<void> => {
      this.consumers.delete(old);
      options.onState?.('joining');
      await old.disconnect().catch(() => undefined);
      while (!stopped) {
        await sleep(backoffDelay(crashes, 1_000, 30_000));
        if (stopped) return;
        try {
          await start();
          return;
        } catch (err) {
          crashes++;
          this.logger?.error({ err, groupId: options.groupId, crashes }, 'consumer did not start; trying again');
          if (current) {
            this.consumers.delete(current);
            await current.disconnect().catch(() => undefined);
          }
        }
      }
    };

    await start();
    return {
      /** Test seam and operator insight: how often the consumer had to be replaced. */
      crashes: () => crashes,
      stop: async () => {
        stopped = true;
        const consumer = current;
        if (!consumer) return;
        this.consumers.delete(consumer);
        await consumer.disconnect(); // waits for the batch in progress
      },
    };
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const admin = await this.getAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({
        waitForLeaders: false, // see waitForLeaders
        topics: missing.map((s) => ({
          topic: s.name,
          numPartitions: s.partitions,
          replicationFactor: -1, // the broker's default.replication.factor
          configEntries: [{ name: 'retention.ms', value: String(s.retentionMs) }],
        })),
      });
    } catch (err) {
      // Another service created them at the same moment.
      if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
    }
    await waitForLeaders(admin, missing.map((s) => s.name));
  }

  async groupPositions(groupId: string, topics: string[]): Promise<PartitionPosition[]> {
    const admin = await this.getAdmin();
    const [committed, ...watermarks] = await Promise.all([
      admin.fetchOffsets({ groupId, topics }),
      ...topics.map((topic) => admin.fetchTopicOffsets(topic)),
    ]);
    const committedAt = new Map(
      committed.flatMap(({ topic, partitions }) => partitions.map((p) => [`${topic}/${p.partition}`, p.offset] as const)),
    );
    return topics.flatMap((topic, i) =>
      watermarks[i].map((w) => {
        const offset = committedAt.get(`${topic}/${w.partition}`);
        return {
          topic,
          partition: w.partition,
          committed: offset === undefined || offset === '-1' ? null : BigInt(offset),
          highWatermark: BigInt(w.high),
          lowWatermark: BigInt(w.low),
        };
      }),
    );
  }

  async ping(): Promise<void> {
    const admin = await this.getAdmin();
    await admin.describeCluster();
  }

  async disconnect(): Promise<void> {
    await Promise.allSettled([...this.consumers].map((c) => c.disconnect()));
    this.consumers.clear();
    await Promise.allSettled([this.producer?.disconnect(), this.admin?.disconnect()]);
    this.producer = undefined;
    this.producerReady = undefined;
    this.admin = undefined;
  }
}
