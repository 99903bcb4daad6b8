import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** One Prometheus registry per process, served on `/metrics`. */
export const metricsRegistry = new Registry();
// The event-loop delay is sampled every 100 ms, not every 10 ms (prom-client's default): that timer
// alone cost an idle service about 8 ms of CPU per second.
collectDefaultMetrics({ register: metricsRegistry, eventLoopMonitoringPrecision: 100 });

export const consumedMessages = new Counter({
  name: 'troupe_consumer_messages_total',
  help: 'Messages consumed, by topic and outcome (processed, duplicate, dead_lettered)',
  labelNames: ['consumer', 'topic', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const consumerBatchSeconds = new Histogram({
  name: 'troupe_consumer_batch_seconds',
  help: 'Time to process one consumer batch in one database transaction',
  labelNames: ['consumer'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});

export const consumerLag = new Gauge({
  name: 'troupe_consumer_lag',
  help: "Messages between the consumer group's committed offset and the high watermark, per topic and partition, read from the broker on a timer",
  labelNames: ['consumer', 'topic', 'partition'] as const,
  registers: [metricsRegistry],
});

export const consumerOldestUnprocessed = new Gauge({
  name: 'troupe_consumer_oldest_unprocessed_seconds',
  help: "How long the oldest message the consumer group has not processed has waited (0 when none), estimated from the high watermarks' history",
  labelNames: ['consumer'] as const,
  registers: [metricsRegistry],
});

export const consumerLagSampledAt = new Gauge({
  name: 'troupe_consumer_lag_sampled_timestamp_seconds',
  help: 'When the lag gauges were last read from the broker (Unix time): stops moving while the broker cannot be asked',
  labelNames: ['consumer'] as const,
  registers: [metricsRegistry],
});

export const outboxPublished = new Counter({
  name: 'troupe_outbox_published_total',
  help: 'Outbox rows published to Kafka',
  labelNames: ['service'] as const,
  registers: [metricsRegistry],
});

export const outboxPending = new Gauge({
  name: 'troupe_outbox_pending',
  help: 'Outbox rows not yet published, as of the last relay pass',
  labelNames: ['service'] as const,
  registers: [metricsRegistry],
});

// One event's way through a hop, measured where it is cheap: the relay knows when the row was
// written and when Kafka acknowledged it; the consumer knows the Kafka timestamp (set by the
// producer), when the message arrived and when its chunk committed. The benchmark reads these.
const DELAY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const outboxPublishDelay = new Histogram({
  name: 'troupe_outbox_publish_delay_seconds',
  help: 'From an outbox row being written (its transaction start) to Kafka acknowledging its publication',
  labelNames: ['service', 'topic'] as const,
  buckets: DELAY_BUCKETS,
  registers: [metricsRegistry],
});

export const consumerFetchDelay = new Histogram({
  name: 'troupe_consumer_fetch_delay_seconds',
  help: 'From a message being published (its Kafka timestamp) to the consumer receiving it',
  labelNames: ['consumer', 'topic'] as const,
  buckets: DELAY_BUCKETS,
  registers: [metricsRegistry],
});

export const consumerCommitDelay = new Histogram({
  name: 'troupe_consumer_commit_delay_seconds',
  help: "From the consumer receiving a message to its chunk's database commit and Kafka offset commit",
  labelNames: ['consumer', 'topic'] as const,
  buckets: DELAY_BUCKETS,
  registers: [metricsRegistry],
});

export const httpRequests = new Counter({
  name: 'troupe_http_requests_total',
  help: 'HTTP requests served, by method, route (its pattern, not the path) and status code',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [metricsRegistry],
});

export const httpRequestSeconds = new Histogram({
  name: 'troupe_http_request_duration_seconds',
  help: 'Time to answer an HTTP request, by method and route',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});
