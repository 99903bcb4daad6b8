/**
 * The hop's floor (`npm run bench:floor`, docs/performance.md "The hop's floor"): a job's five hops
 * with nothing but the clients Troupe uses (kafkajs, pg) and the guarantees it keeps, to tell what a
 * hop costs on this machine before any of Troupe's own code runs. A job is one message through five
 * processes, each consuming one topic and publishing to the next:
 *
 *   db    each hop takes a fetch's batch of a partition and, in one transaction, records the
 *         batch's event ids in an inbox (ON CONFLICT DO NOTHING: the idempotent consumer) and its
 *         output in an outbox; commits; publishes the output (idempotent producer, acks=all); marks
 *         those rows sent; commits the offsets. Committed in Postgres before publish, the inbox row
 *         in the handler's transaction: what every Troupe hop does, without anything else.
 *   bare  consume, publish, commit offsets: the Kafka client's own ceiling here.
 *
 * The handler parses the JSON event and writes a new one (a payload of BENCH_FLOOR_PAYLOAD_BYTES,
 * about a Troupe event's size). The load generator (this process, not measured) publishes jobs in
 * batches of what accumulated while its last send was in flight, as the outbox relay does, and
 * consumes the last topic. Same measurements and JSON lines as `npm run bench`, without a model:
 * overhead = end-to-end time.
 *
 *   BENCH_FLOOR_MODE=db,bare   BENCH_FLOOR_PAYLOAD_BYTES=2500   BENCH_FLOOR_HOPS=5
 *   BENCH_FLOOR_FETCH_MIN_BYTES=1 BENCH_FLOOR_FETCH_MAX_WAIT_MS=1000  (the hops' fetch: batching under load)
 *   BENCH_MEASURE, BENCH_JOBS, BENCH_CONCURRENCY, BENCH_RATE, BENCH_DURATION_S, BENCH_IDLE_S,
 *   BENCH_WARMUP_JOBS, BENCH_PARTITIONS, BENCH_KAFKA_PORT, BENCH_KAFKA_CONTROLLER_PORT as for `npm run bench`
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Client, Pool } from 'pg';
import { fixKafkajsRequestQueue } from '../libs/messaging/dist/kafkajs-request-queue-fix';
import { CpuMeter, postgresProcesses, round } from './pipeline/cpu';
import { commitStamp, onDatabaseServer, quantiles } from './pipeline/report';
import { Broker } from './pipeline/stack';

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const num = (name: string, fallback: number) => Number(env(name, String(fallback)));

const CONFIG = {
  modes: env('BENCH_FLOOR_MODE', 'db,bare').split(',') as Mode[],
  measure: env('BENCH_MEASURE', 'idle,throughput,latency').split(','),
  payloadBytes: num('BENCH_FLOOR_PAYLOAD_BYTES', 2500),
  hops: num('BENCH_FLOOR_HOPS', 5),
  jobs: num('BENCH_JOBS', 5000),
  concurrency: num('BENCH_CONCURRENCY', 64),
  rate: num('BENCH_RATE', 100),
  durationS: num('BENCH_DURATION_S', 30),
  idleS: num('BENCH_IDLE_S', 20),
  warmupJobs: num('BENCH_WARMUP_JOBS', 10_000), // as `npm run bench`: past the broker's JIT warm-up
  partitions: num('BENCH_PARTITIONS', 6),
  // A fetch the broker holds until this many bytes arrived or the wait is over (kafkajs's 1 and
  // Troupe's 1 s by default): more messages per round, at the price of that wait per hop.
  fetchMinBytes: num('BENCH_FLOOR_FETCH_MIN_BYTES', 1),
  fetchMaxWaitMs: num('BENCH_FLOOR_FETCH_MAX_WAIT_MS', 1_000),
  kafkaPort: num('BENCH_KAFKA_PORT', 19092),
  kafkaControllerPort: num('BENCH_KAFKA_CONTROLLER_PORT', 19093),
};

type Mode = 'db' | 'bare';
const topicOf = (mode: Mode, index: number) => `troupe.floor.${mode}.${index}`;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`bench:floor: ${line}\n`);

const SCHEMA = `
CREATE TABLE IF NOT EXISTS floor_inbox (consumer text NOT NULL, event_id uuid NOT NULL, PRIMARY KEY (consumer, event_id));
CREATE TABLE IF NOT EXISTS floor_outbox (id bigserial PRIMARY KEY, topic text NOT NULL, key text, value bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(), sent_at timestamptz);
CREATE INDEX IF NOT EXISTS floor_outbox_unsent ON floor_outbox (id) WHERE sent_at IS NULL;
`;

interface FloorEvent {
  id: string;
  job: string;
  hop: number;
  payload: string;
}

// ---------------------------------------------------------------------------------------------
// A hop: its own process, consumer group and producer, as a Troupe service has.

async function runHop(mode: Mode, index: number, brokers: string, databaseUrl: string, partitions: number): Promise<void> {
  fixKafkajsRequestQueue(); // as every Troupe process does (a 1 ms timer per connection otherwise)
  const kafka = new Kafka({ clientId: `floor-hop-${index}`, brokers: [brokers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const pool = mode === 'db' ? new Pool({ connectionString: databaseUrl, max: partitions, application_name: `floor-hop-${index}` }) : undefined;
  const consumer = kafka.consumer({
    groupId: `floor-${mode}-${index}`,
    allowAutoTopicCreation: false,
    sessionTimeout: 6_000,
    heartbeatInterval: 1_000,
    minBytes: CONFIG.fetchMinBytes,
    maxWaitTimeInMs: CONFIG.fetchMaxWaitMs,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topicOf(mode, index)], fromBeginning: true });
  consumer.on(consumer.events.GROUP_JOIN, () => process.send!({ type: 'ready' }));
  const name = `hop-${index}`;
  const out = topicOf(mode, index + 1);
  let batches = 0;
  let messages = 0;
  process.on('message', (m: { type: string }) => {
    if (m.type === 'report') process.send!({ type: 'report', batches, messages });
  });

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: partitions,
    eachBatch: async ({ batch, resolveOffset }) => {
      if (batch.messages.length === 0) return;
      batches++;
      messages += batch.messages.length;
      const ids: string[] = [];
      const produced = batch.messages.map((m) => {
        const event = JSON.parse(m.value!.toString('utf8')) as FloorEvent;
        ids.push(event.id);
        const next: FloorEvent = { ...event, id: randomUUID(), hop: index + 1 };
        return { key: m.key!.toString('utf8'), value: Buffer.from(JSON.stringify(next)) };
      });
      if (pool) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const fresh = await client.query<{ event_id: string }>(
            'INSERT INTO floor_inbox (consumer, event_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id',
            [name, ids],
          );
          const isFresh = new Set(fresh.rows.map((r) => r.event_id));
          const todo = produced.filter((_, i) => isFresh.has(ids[i]));
          const rows = await client.query<{ id: string }>(
            'INSERT INTO floor_outbox (topic, key, value) SELECT $1, unnest($2::text[]), unnest($3::bytea[]) RETURNING id',
            [out, todo.map((m) => m.key), todo.map((m) => m.value)],
          );
          await client.query('COMMIT');
          if (todo.length > 0) {
            await producer.send({ topic: out, acks: -1, messages: todo });
            await client.query('UPDATE floor_outbox SET sent_at = now() WHERE id = ANY($1::bigint[])', [rows.rows.map((r) => r.id)]);
          }
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      } else {
        await producer.send({ topic: out, acks: -1, messages: produced });
      }
      const last = batch.messages[batch.messages.length - 1].offset;
      resolveOffset(last);
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(BigInt(last) + 1n) }]);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// The load generator and the measurements.

/** Publishes jobs to the first topic in batches of what accumulated while the last send was out. */
class Source {
  private queue: { key: string; value: Buffer }[] = [];
  private sending = false;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  publish(job: string): void {
    const event: FloorEvent = { id: randomUUID(), job, hop: 0, payload: 'x'.repeat(CONFIG.payloadBytes) };
    this.queue.push({ key: job, value: Buffer.from(JSON.stringify(event)) });
    if (!this.sending) void this.flush();
  }

  private async flush(): Promise<void> {
    this.sending = true;
    while (this.queue.length > 0) {
      const messages = this.queue;
      this.queue = [];
      await this.producer.send({ topic: this.topic, acks: -1, messages });
    }
    this.sending = false;
  }
}

/** Arrivals at the last topic: first arrival and count per job, and a wait for each. */
class Sink {
  readonly arrivals = new Map<string, { at: number; count: number }>();
  private readonly waiting = new Map<string, () => void>();

  arrived(job: string): void {
    const seen = this.arrivals.get(job);
    if (seen) seen.count++;
    else this.arrivals.set(job, { at: now(), count: 1 });
    this.waiting.get(job)?.();
    this.waiting.delete(job);
  }

  /** Resolves at the job's arrival, or after `timeoutMs` (it is then counted missing). */
  until(job: string, timeoutMs = 60_000): Promise<void> {
    if (this.arrivals.has(job)) return Promise.resolve();
    return new Promise((ok) => {
      const timer = setTimeout(ok, timeoutMs);
      this.waiting.set(job, () => (clearTimeout(timer), ok()));
    });
  }
}

async function benchMode(mode: Mode, brokers: string, databaseUrl: string, database: string, meta: object): Promise<void> {
  const kafka = new Kafka({ clientId: 'floor-load', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: Array.from({ length: CONFIG.hops + 1 }, (_, i) => ({ topic: topicOf(mode, i), numPartitions: CONFIG.partitions, replicationFactor: 1 })),
  });
  await admin.disconnect();

  const hops: ChildProcess[] = [];
  for (let i = 0; i < CONFIG.hops; i++) {
    const child = fork(__filename, ['hop', mode, String(i), brokers, databaseUrl, String(CONFIG.partitions)], {
      execArgv: process.execArgv,
      stdio: 'inherit',
    });
    hops.push(child);
    await new Promise<void>((ok, fail) => {
      child.once('message', () => ok());
      child.once('exit', (code) => fail(new Error(`hop ${i} exited with ${code}`)));
    });
  }

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const source = new Source(producer, topicOf(mode, 0));
  const sink = new Sink();
  const consumer = kafka.consumer({ groupId: `floor-${mode}-sink`, maxWaitTimeInMs: 1_000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topicOf(mode, CONFIG.hops)], fromBeginning: true });
  const sinkReady = new Promise<void>((ok) => consumer.on(consumer.events.GROUP_JOIN, () => ok()));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) sink.arrived(m.key!.toString('utf8'));
    },
  });
  await sinkReady;

  const pg = mode === 'db' ? postgresProcesses(database) : undefined;
  const groups: Record<string, () => number[]> = {
    hops: () => hops.map((h) => h.pid!),
    broker: () => broker!.pids(),
    ...(pg ? { postgres: pg.backends, postgresServer: pg.server } : {}),
  };
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const unsent = async () =>
    mode === 'db' ? Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM floor_outbox WHERE sent_at IS NULL')).rows[0].n) : 0;
  const report = async () => {
    let batches = 0;
    let messages = 0;
    for (const hop of hops) {
      const r = await new Promise<{ batches: number; messages: number }>((ok) => {
        hop.once('message', (m: { batches: number; messages: number }) => ok(m));
        hop.send({ type: 'report' });
      });
      batches += r.batches;
      messages += r.messages;
    }
    return { batches, messages };
  };

  let seq = 0;
  const closedLoop = async (jobs: number, concurrency: number, sentAt: Map<string, number>) => {
    let left = jobs;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left > 0) {
          left--;
          const job = `${mode}-${++seq}`;
          sentAt.set(job, now());
          source.publish(job);
          await sink.until(job);
        }
      }),
    );
  };
  const openLoop = async (rate: number, seconds: number, sentAt: Map<string, number>) => {
    const total = Math.round(rate * seconds);
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const wait = start + (i * 1000) / rate - performance.now();
      if (wait > 0) await sleep(wait);
      const job = `${mode}-${++seq}`;
      sentAt.set(job, now());
      source.publish(job);
    }
    await Promise.all([...sentAt.keys()].map((job) => sink.until(job)));
  };

  const measure = async (name: string, load: (sentAt: Map<string, number>) => Promise<void>, extra: object) => {
    const sentAt = new Map<string, number>();
    const before = await report();
    const meter = new CpuMeter(groups, 500);
    meter.start();
    const started = now();
    await load(sentAt);
    const arrived = [...sentAt].flatMap(([job, at]) => {
      const arrival = sink.arrivals.get(job);
      return arrival ? [{ at, arrival }] : [];
    });
    const lastArrival = Math.max(...arrived.map((a) => a.arrival.at));
    while ((await unsent()) > 0) await sleep(20);
    const { seconds, cpuS } = meter.stop();
    const after = await report();
    const e2e = arrived.map((a) => a.arrival.at - a.at);
    const duplicates = arrived.filter((a) => a.arrival.count > 1).length;
    const cpuTotalS = Object.values(cpuS).reduce((a, b) => a + b, 0);
    const line = {
      bench: 'troupe-hop-floor',
      mode,
      measurement: name,
      ...extra,
      delivered: arrived.length,
      missing: sentAt.size - arrived.length,
      duplicates,
      jobsPerS: round(arrived.length / ((lastArrival - started) / 1000), 1),
      e2eMs: quantiles(e2e),
      cpuWindowS: round(seconds, 1),
      cpuS,
      cpuTotalS: round(cpuTotalS, 2),
      cpuMsPerJob: round((cpuTotalS * 1000) / sentAt.size, 2),
      messagesPerBatch: round((after.messages - before.messages) / Math.max(1, after.batches - before.batches), 1),
      hops: CONFIG.hops,
      partitions: CONFIG.partitions,
      payloadBytes: CONFIG.payloadBytes,
      fetch: { minBytes: CONFIG.fetchMinBytes, maxWaitMs: CONFIG.fetchMaxWaitMs },
      ...meta,
    };
    process.stdout.write(JSON.stringify(line) + '\n');
  };

  log(`${mode}: warming up with ${CONFIG.warmupJobs} jobs`);
  await closedLoop(CONFIG.warmupJobs, CONFIG.concurrency, new Map());
  while ((await unsent()) > 0) await sleep(20);
  for (const name of CONFIG.measure) {
    log(`${mode}: ${name}`);
    if (name === 'throughput') {
      await measure('throughput', (sentAt) => closedLoop(CONFIG.jobs, CONFIG.concurrency, sentAt), { jobs: CONFIG.jobs, concurrency: CONFIG.concurrency });
    } else if (name === 'latency') {
      await measure('latency', (sentAt) => openLoop(CONFIG.rate, CONFIG.durationS, sentAt), { rate: CONFIG.rate, durationS: CONFIG.durationS });
    } else if (name === 'idle') {
      await sleep(2_000); // let the last fetches and commits of the warm-up settle
      const meter = new CpuMeter(groups, 1_000);
      meter.start();
      await sleep(CONFIG.idleS * 1000);
      const { seconds, cpuS } = meter.stop();
      const total = Object.values(cpuS).reduce((a, b) => a + b, 0);
      process.stdout.write(
        JSON.stringify({ bench: 'troupe-hop-floor', mode, measurement: 'idle', seconds: round(seconds, 1), cpuSPerS: round(total / seconds, 4), cpuS, ...meta }) + '\n',
      );
    }
  }

  await consumer.disconnect();
  await producer.disconnect();
  await db.end();
  for (const hop of hops) hop.kill('SIGKILL');
}

let broker: Broker | undefined;

async function main(): Promise<void> {
  const meta = commitStamp();
  const database = `troupe_floor_${randomBytes(4).toString('hex')}`;
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/troupe');
  url.pathname = `/${database}`;
  const databaseUrl = url.toString();
  const cleanup = async () => {
    broker?.stop();
    await onDatabaseServer((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)).catch(() => undefined);
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    log(`starting a broker on 127.0.0.1:${CONFIG.kafkaPort}`);
    broker = new Broker(CONFIG.kafkaPort, CONFIG.kafkaControllerPort);
    await broker.start(CONFIG.kafkaPort);
    await onDatabaseServer((c) => c.query(`CREATE DATABASE ${database}`));
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    await db.query(SCHEMA);
    await db.end();
    for (const mode of CONFIG.modes) await benchMode(mode, `127.0.0.1:${CONFIG.kafkaPort}`, databaseUrl, database, meta);
  } finally {
    await cleanup();
  }
}

if (process.argv[2] === 'hop') {
  const [, , , mode, index, brokers, databaseUrl, partitions] = process.argv;
  runHop(mode as Mode, Number(index), brokers, databaseUrl, Number(partitions)).catch((error) => {
    process.stderr.write(`hop ${index}: ${String(error)}\n`);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`bench:floor: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
