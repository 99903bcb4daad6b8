import { consumerLag, consumerLagSampledAt, consumerOldestUnprocessed } from '@troupe/telemetry';
import type { Logger } from 'pino';
import type { KafkaGateway, PartitionPosition } from './kafka-gateway';
import { PollingLoop } from './polling-loop';

/** One high watermark, and the first and last time a sample saw it. */
export interface WatermarkSighting {
  highWatermark: bigint;
  firstSeen: number;
  lastSeen: number;
}

/** Sightings kept per partition: at a 15 s interval, hours of a busy partition's history. */
const MAX_SIGHTINGS = 720;

/**
 * How long the message at `committed` (the next one the group will read) has waited, estimated from
 * the high watermarks seen over time: it was produced after the last sighting of a watermark at or
 * below it and by the first sighting of one above it (linear in between). Kafka keeps no index from
 * offset to time that a client can ask cheaply; interpolating the watermark history is what lag
 * exporters do. Before the oldest sighting, the age is at least that sighting's.
 */
export function estimateWaitSeconds(sightings: readonly WatermarkSighting[], committed: bigint, now: number): number {
  const next = sightings.findIndex((s) => s.highWatermark > committed);
  if (next === -1) return 0; // nothing unread
  const after = sightings[next];
  if (next === 0) return Math.max(0, (now - after.firstSeen) / 1000);
  const before = sightings[next - 1];
  const span = Number(after.highWatermark - before.highWatermark);
  const share = span > 0 ? Number(committed - before.highWatermark) / span : 0;
  const producedAt = before.lastSeen + share * (after.firstSeen - before.lastSeen);
  return Math.max(0, (now - producedAt) / 1000);
}

export interface LagMonitorOptions {
  gateway: KafkaGateway;
  logger: Logger;
  /** The consumer group, which is also the `consumer` label of the gauges. */
  consumer: string;
  topics: string[];
  intervalMs: number;
  now?: () => number;
}

/**
 * Lag as the broker sees it, refreshed on a timer: committed offset against high watermark for each
 * of the group's partitions, and how long the oldest unprocessed message has waited. Read from the
 * broker rather than after each batch, so a stalled or crashed consumer shows its lag growing.
 */
export class LagMonitor {
  private readonly sightings = new Map<string, WatermarkSighting[]>();
  private readonly loop: PollingLoop;
  private readonly now: () => number;

  constructor(private readonly options: LagMonitorOptions) {
    this.now = options.now ?? Date.now;
    this.loop = new PollingLoop({
      pass: async () => {
        await this.sample();
        return false;
      },
      idleMs: options.intervalMs,
      onError: (err, failures) => {
        // The broker being away is seen elsewhere (readiness); the gauges keep their last values
        // and troupe_consumer_lag_sampled_timestamp_seconds stops moving.
        if (failures === 1) options.logger.warn({ err, consumer: options.consumer }, 'consumer lag could not be read from the broker');
      },
    });
  }

  start(): void {
    if (this.options.intervalMs > 0 && this.options.topics.length > 0) this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Reads the group's positions once and updates the gauges. */
  async sample(): Promise<void> {
    const positions = await this.options.gateway.groupPositions(this.options.consumer, this.options.topics);
    const now = this.now();
    let oldest = 0;
    for (const p of positions) {
      const next = p.committed ?? p.lowWatermark; // nothing committed: the group reads from the beginning
      const lag = p.highWatermark > next ? p.highWatermark - next : 0n;
      consumerLag.set({ consumer: this.options.consumer, topic: p.topic, partition: String(p.partition) }, Number(lag));
      const sightings = this.sight(p, now);
      if (lag > 0n) oldest = Math.max(oldest, estimateWaitSeconds(sightings, next, now));
    }
    consumerOldestUnprocessed.set({ consumer: this.options.consumer }, oldest);
    consumerLagSampledAt.set({ consumer: this.options.consumer }, now / 1000);
  }

  private sight(p: PartitionPosition, now: number): WatermarkSighting[] {
    const key = `${p.topic}/${p.partition}`;
    let list = this.sightings.get(key);
    // None yet, or the topic was recreated (its watermark went back): a new history.
    if (!list || (list.length > 0 && p.highWatermark < list[list.length - 1].highWatermark)) this.sightings.set(key, (list = []));
    const last = list[list.length - 1];
    if (last && last.highWatermark === p.highWatermark) last.lastSeen = now;
    else list.push({ highWatermark: p.highWatermark, firstSeen: now, lastSeen: now });
    if (list.length > MAX_SIGHTINGS) list.splice(0, list.length - MAX_SIGHTINGS);
    return list;
  }
}
