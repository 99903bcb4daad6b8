/**
 * The pipeline benchmark (`npm run bench`, docs/performance.md): starts an isolated Troupe (its own
 * broker, database and ports), then measures
 *
 *   throughput  BENCH_JOBS jobs from BENCH_CONCURRENCY submitters, the model answering at once
 *   latency     BENCH_RATE jobs/s for BENCH_DURATION_S, the model answering after BENCH_MODEL_LATENCY_MS;
 *               overhead = end-to-end time (POST /v1/jobs to the webhook's arrival) minus that latency
 *   idle        CPU per second with no job in flight
 *
 * and prints one JSON line per measurement on stdout (progress goes to stderr). Every figure is
 * printed, never asserted.
 *
 *   BENCH_TRACING=off|on|both (both)   BENCH_MEASURE=idle,throughput,latency   BENCH_PARTITIONS=6
 *   BENCH_JOBS=5000 BENCH_CONCURRENCY=64 BENCH_RATE=100 BENCH_DURATION_S=30 BENCH_MODEL_LATENCY_MS=50
 *   BENCH_IDLE_S=20 BENCH_WARMUP_JOBS=10000 BENCH_KAFKA_PORT=19092 BENCH_KAFKA_CONTROLLER_PORT=19093
 *   BENCH_SERVICE_ENV='TROUPE_DB_POOL_SIZE=20,...'   extra service environment, for experiments
 *   BENCH_CPU_PROF=<dir>                             services write V8 CPU profiles there
 *   BENCH_PG_SAMPLE=1                                samples pg_stat_activity during each load and
 *                                                    prints the statements seen running most (stderr)
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import type { Client } from 'pg';
import { CpuMeter, round } from './pipeline/cpu';
import { commitStamp, quantiles } from './pipeline/report';
import type { ReceiverReport } from './pipeline/helpers';
import { API_KEY, SERVICES, Stack } from './pipeline/stack';

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const num = (name: string, fallback: number) => Number(env(name, String(fallback)));

const CONFIG = {
  tracing: env('BENCH_TRACING', 'both'),
  measure: env('BENCH_MEASURE', 'idle,throughput,latency').split(','),
  jobs: num('BENCH_JOBS', 5000),
  concurrency: num('BENCH_CONCURRENCY', 64),
  rate: num('BENCH_RATE', 100),
  durationS: num('BENCH_DURATION_S', 30),
  modelLatencyMs: num('BENCH_MODEL_LATENCY_MS', 50),
  partitions: num('BENCH_PARTITIONS', 6),
  idleS: num('BENCH_IDLE_S', 20),
  // A fresh broker's JIT compiler (C2) keeps compiling for a minute of load or more, a third of the
  // broker's CPU at first: a production broker is long past that, so the figures are taken after it.
  warmupJobs: num('BENCH_WARMUP_JOBS', 10_000),
  kafkaPort: num('BENCH_KAFKA_PORT', 19092),
  kafkaControllerPort: num('BENCH_KAFKA_CONTROLLER_PORT', 19093),
  serviceEnv: Object.fromEntries(
    env('BENCH_SERVICE_ENV', '')
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  ),
  cpuProfDir: process.env.BENCH_CPU_PROF,
  pgSample: env('BENCH_PG_SAMPLE', '') === '1',
};

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


const TEXT =
  'Hello, I was charged twice for my subscription this month and would like the extra payment refunded. ' +
  'My account is registered under this address and the invoice number is on the receipt. Ticket';

/** Submits jobs over one keep-alive agent; remembers when each was sent. */
class Submitter {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
  readonly sentAt = new Map<string, number>();
  accepted = 0;
  errors: Record<string, number> = {};
  private seq = 0;

  constructor(
    private readonly api: string,
    private readonly webhookUrl: string,
  ) {}

  submit(): Promise<void> {
    const body = JSON.stringify({
      workflow: 'bench',
      input: { text: `${TEXT} #${++this.seq}.` },
      webhook: { url: this.webhookUrl },
    });
    const started = now();
    return new Promise<void>((ok) => {
      const request = http.request(
        `${this.api}/v1/jobs`,
        {
          method: 'POST',
          agent: this.agent,
          headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => {
            if (response.statusCode === 202) {
              this.accepted++;
              this.sentAt.set((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string }).id, started);
            } else this.count(`HTTP_${response.statusCode}`);
            ok();
          });
        },
      );
      request.on('error', (error) => (this.count((error as NodeJS.ErrnoException).code ?? 'ERROR'), ok()));
      request.end(body);
    });
  }

  /** Closed loop: `concurrency` submitters, each sending its next job when the previous one is answered. */
  async closedLoop(jobs: number, concurrency: number): Promise<void> {
    let left = jobs;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left > 0) {
          left--;
          await this.submit();
        }
      }),
    );
  }

  /** Open loop: `rate` jobs per second on a fixed schedule, whatever the answers take. */
  async openLoop(rate: number, seconds: number): Promise<void> {
    const total = Math.round(rate * seconds);
    const start = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      inFlight.push(this.submit());
    }
    await Promise.all(inFlight);
  }

  private count(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Sums of the per-hop delay histograms (troupe_*_delay_seconds) over all services. */
async function scrapeHops(stack: Stack): Promise<Map<string, { sum: number; count: number }>> {
  const totals = new Map<string, { sum: number; count: number }>();
  for (const name of SERVICES) {
    const response = await fetch(`${stack.services.get(name)!.url}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } }).catch(
      () => undefined,
    );
    const text = response?.ok ? await response.text() : '';
    for (const line of text.split('\n')) {
      // Messages and chunks per consumer: how well batches fill.
      const c = /^troupe_consumer_(batch_seconds_count|messages_total)\{consumer="troupe-(\w+)"[^}]*\} (\S+)$/.exec(line);
      if (c) {
        const key = `${c[2]}|${c[1] === 'messages_total' ? 'messages' : 'chunks'}`;
        const entry = totals.get(key) ?? { sum: 0, count: 0 };
        entry.count += Number(c[3]);
        totals.set(key, entry);
        continue;
      }
      const m = /^troupe_(outbox_publish|consumer_fetch|consumer_commit)_delay_seconds_(sum|count)\{(.*)\} (\S+)$/.exec(line);
      if (!m) continue;
      const labels = Object.fromEntries([...m[3].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
      const hop = { outbox_publish: 'publish', consumer_fetch: 'fetch', consumer_commit: 'commit' }[m[1]]!;
      const who = labels.consumer ? labels.consumer.replace(/^troupe-/, '') : labels.service;
      const key = `${labels.topic.replace(/^troupe\./, '')}|${hop}:${who}`;
      const entry = totals.get(key) ?? { sum: 0, count: 0 };
      entry[m[2] as 'sum' | 'count'] += Number(m[4]);
      totals.set(key, entry);
    }
  }
  return totals;
}

/** Between two scrapes: mean delay per hop (ms) by topic (`{ "job.requested": { "publish:intake": 3.2, ... } }`) and messages per chunk by consumer. */
function hopDelta(before: Map<string, { sum: number; count: number }>, after: Map<string, { sum: number; count: number }>) {
  const out: Record<string, Record<string, number>> = {};
  const batching: Record<string, number> = {};
  for (const [key, a] of after) {
    const b = before.get(key) ?? { sum: 0, count: 0 };
    const count = a.count - b.count;
    if (count <= 0) continue;
    const [topic, hop] = key.split('|');
    if (hop === 'chunks') {
      const messages = (after.get(`${topic}|messages`)?.count ?? 0) - (before.get(`${topic}|messages`)?.count ?? 0);
      batching[topic] = round(messages / count, 1);
      continue;
    }
    if (hop === 'messages') continue;
    (out[topic] ??= {})[hop] = round(((a.sum - b.sum) / count) * 1000, 1);
  }
  return { hopsMs: out, messagesPerChunk: batching };
}

/** A poor man's profiler for Postgres: which statements are running, sampled every 10 ms. */
async function samplePostgres(stack: Stack, database: string, until: () => boolean): Promise<void> {
  const client = await stack.connect();
  const seen = new Map<string, number>();
  let samples = 0;
  try {
    while (!until()) {
      const { rows } = await client.query(
        `SELECT query, wait_event_type AS wait FROM pg_stat_activity
          WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()`,
        [database],
      );
      samples++;
      for (const r of rows) {
        const key = `${r.wait ?? 'CPU'} | ${String(r.query).replace(/\s+/g, ' ').slice(0, 160)}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      await sleep(10);
    }
  } finally {
    await client.end();
  }
  log(`postgres: active statements in ${samples} samples (count = samples seen running; wait type or CPU):`);
  for (const [key, n] of [...seen].sort((a, b) => b[1] - a[1]).slice(0, 25)) log(`  ${String(n).padStart(6)}  ${key}`);
}

class Measurement {
  private kafka!: Kafka;
  private db?: Client;
  private ownBackend = 0;

  constructor(
    private readonly stack: Stack,
    private readonly tracing: boolean,
  ) {}

  async open(): Promise<void> {
    this.kafka = new Kafka({ clientId: 'troupe-bench', brokers: [this.stack.brokers], logLevel: logLevel.NOTHING });
    this.db = await this.stack.connect();
    this.ownBackend = (await this.db.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  }

  async close(): Promise<void> {
    await this.db?.end();
  }

  private meter(): CpuMeter {
    return new CpuMeter(this.stack.processGroups([this.ownBackend]));
  }

  private receiver(): Promise<ReceiverReport> {
    return this.stack.helpers.get('receiver')!.ask<ReceiverReport>({ type: 'report' });
  }

  /** Jobs not yet delivered in the read model, unsent outbox rows, and consumer lag. */
  private async backlog(): Promise<{ open: number; unsent: number; lag: number }> {
    const unsentSql = SERVICES.map((s) => `(SELECT count(*) FROM ${s}.outbox WHERE sent_at IS NULL)`).join(' + ');
    const { rows } = await this.db!.query(
      `SELECT (SELECT count(*) FROM intake.jobs WHERE status NOT IN ('delivered', 'failed', 'delivery_failed'))::int AS open,
              (${unsentSql})::int AS unsent`,
    );
    const admin = this.kafka.admin();
    await admin.connect();
    let lag = 0;
    try {
      const topics = (await admin.listTopics()).filter((t) => t.startsWith('troupe.'));
      const high = new Map<string, number>();
      for (const topic of topics) {
        for (const p of await admin.fetchTopicOffsets(topic)) high.set(`${topic}/${p.partition}`, Number(p.high));
      }
      for (const service of SERVICES) {
        for (const t of await admin.fetchOffsets({ groupId: `troupe-${service}`, topics })) {
          for (const p of t.partitions) {
            // Only partitions the group has committed on (warm-up makes that every one it reads).
            if (Number(p.offset) >= 0) lag += Math.max(0, (high.get(`${t.topic}/${p.partition}`) ?? 0) - Number(p.offset));
          }
        }
      }
    } finally {
      await admin.disconnect();
    }
    return { ...rows[0], lag };
  }

  /** Waits until every job is delivered, every outbox row published and every consumer caught up. */
  async quiet(timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let calm = 0;
    while (calm < 2) {
      const b = await this.backlog();
      calm = b.open === 0 && b.unsent === 0 && b.lag === 0 ? calm + 1 : 0;
      if (Date.now() > deadline) throw new Error(`the system did not settle: ${JSON.stringify(b)}`);
      await sleep(250);
    }
  }

  /** Waits until the receiver has every accepted job (or nothing more arrives for `stallMs`). */
  private async deliveries(submitter: Submitter, stallMs = 60_000): Promise<ReceiverReport> {
    let last = -1;
    let progressAt = Date.now();
    for (;;) {
      const report = await this.receiver();
      const got = new Set(report.deliveries.map(([id]) => id));
      if ([...submitter.sentAt.keys()].every((id) => got.has(id))) return report;
      if (report.deliveries.length !== last) (last = report.deliveries.length), (progressAt = Date.now());
      else if (Date.now() - progressAt > stallMs) return report;
      await sleep(250);
    }
  }

  async warmUp(jobs: number): Promise<void> {
    log(`warm-up: ${jobs} jobs`);
    this.stack.helpers.get('stub')!.send({ type: 'latency', latencyMs: 0 });
    const submitter = new Submitter(this.stack.api, this.stack.receiverUrl);
    await submitter.closedLoop(jobs, CONFIG.concurrency);
    submitter.close();
    await this.quiet();
    // What autovacuum does in production (it may be off on a development server): without it the
    // warm-up's dead rows slow every later statement down.
    await this.db!.query('VACUUM (ANALYZE)');
  }

  async idle(seconds: number) {
    log(`idle: ${seconds} s`);
    await sleep(3_000); // let the last commits and heartbeats pass
    const meter = this.meter();
    meter.start();
    await sleep(seconds * 1000);
    const { seconds: elapsed, cpuS } = meter.stop();
    const total = sum(cpuS);
    return {
      measurement: 'idle',
      seconds: round(elapsed, 1),
      cpuSPerS: round(total / elapsed, 4),
      cpuS,
    };
  }

  /** Runs one load and reports: rate, end-to-end times, missing and duplicate deliveries, CPU. */
  async run(kind: 'throughput' | 'latency', modelLatencyMs: number, load: (s: Submitter) => Promise<void>) {
    this.stack.helpers.get('stub')!.send({ type: 'latency', latencyMs: modelLatencyMs });
    const before = await this.receiver();
    const seenBefore = new Set(before.deliveries.map(([id]) => id));
    const hopsBefore = await scrapeHops(this.stack);
    const submitter = new Submitter(this.stack.api, this.stack.receiverUrl);
    const meter = this.meter();
    const benchCpu = process.cpuUsage();
    meter.start();
    let done = false;
    const sampling = CONFIG.pgSample ? samplePostgres(this.stack, this.stack.databaseName, () => done) : undefined;
    const startedAt = now();
    await load(submitter);
    const submittedAt = now();
    const report = await this.deliveries(submitter);
    await this.quiet().catch((error) => log(`warning: ${(error as Error).message}`));
    const { seconds: cpuWindowS, cpuS } = meter.stop();
    done = true;
    await sampling;
    const benchCpuS = (process.cpuUsage(benchCpu).user + process.cpuUsage(benchCpu).system) / 1e6;
    const hopsAfter = await scrapeHops(this.stack);
    const final = await this.receiver(); // duplicates may arrive late
    submitter.close();

    const arrivals = new Map(report.deliveries.filter(([id]) => !seenBefore.has(id)).map(([id, at]) => [id, at]));
    const counts = new Map(final.deliveries.map(([id, , n]) => [id, n]));
    const e2e: number[] = [];
    let missing = 0;
    let duplicates = 0;
    let lastArrival = startedAt;
    for (const [id, sent] of submitter.sentAt) {
      const at = arrivals.get(id);
      if (at === undefined) {
        missing++;
        continue;
      }
      e2e.push(at - sent);
      lastArrival = Math.max(lastArrival, at);
      duplicates += (counts.get(id) ?? 1) - 1;
    }
    const durationS = (lastArrival - startedAt) / 1000;
    const delivered = e2e.length;
    const troupe = ['intake', 'classification', 'generation', 'validation', 'delivery', 'broker', 'postgres', 'postgresServer'];
    const cpuTotalS = sum(cpuS);
    const cpuTroupeS = sum(Object.fromEntries(Object.entries(cpuS).filter(([k]) => troupe.includes(k))));
    return {
      measurement: kind,
      ...(kind === 'throughput' ? { jobs: CONFIG.jobs, concurrency: CONFIG.concurrency } : { rate: CONFIG.rate, durationS: CONFIG.durationS }),
      modelLatencyMs,
      accepted: submitter.accepted,
      httpErrors: submitter.errors,
      delivered,
      missing,
      duplicates,
      jobsPerS: round(delivered / durationS, 1),
      submitS: round((submittedAt - startedAt) / 1000, 1),
      lastDeliveryS: round(durationS, 1),
      e2eMs: quantiles(e2e),
      ...(kind === 'latency' ? { overheadMs: quantiles(e2e.map((x) => x - modelLatencyMs)) } : {}),
      cpuWindowS: round(cpuWindowS, 1),
      cpuS,
      cpuTotalS: round(cpuTotalS, 2),
      cpuMsPerJob: round((cpuTotalS * 1000) / Math.max(1, delivered), 2),
      troupeCpuMsPerJob: round((cpuTroupeS * 1000) / Math.max(1, delivered), 2),
      loadGeneratorCpuS: round(benchCpuS, 2),
      ...hopDelta(hopsBefore, hopsAfter),
    };
  }
}

const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);

async function benchStack(tracing: boolean, stamp: { commit: string; dirty: boolean }): Promise<void> {
  const stack = new Stack({
    tracing,
    partitions: CONFIG.partitions,
    kafkaPort: CONFIG.kafkaPort,
    kafkaControllerPort: CONFIG.kafkaControllerPort,
    serviceEnv: CONFIG.serviceEnv,
    cpuProfDir: CONFIG.cpuProfDir,
    log,
  });
  const stop = () => {
    log('interrupted; stopping the stack');
    stack.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  const measurement = new Measurement(stack, tracing);
  try {
    await stack.start();
    await measurement.open();
    await measurement.warmUp(CONFIG.warmupJobs);
    const print = (result: object) =>
      process.stdout.write(
        JSON.stringify({
          bench: 'troupe-pipeline',
          ...result,
          tracing: tracing ? 'on' : 'off',
          partitions: CONFIG.partitions,
          ...stamp,
          serviceEnv: Object.keys(CONFIG.serviceEnv).length ? CONFIG.serviceEnv : undefined,
          at: new Date().toISOString(),
        }) + '\n',
      );
    if (CONFIG.measure.includes('throughput')) {
      log(`throughput: ${CONFIG.jobs} jobs from ${CONFIG.concurrency} submitters, model at once`);
      print(await measurement.run('throughput', 0, (s) => s.closedLoop(CONFIG.jobs, CONFIG.concurrency)));
    }
    if (CONFIG.measure.includes('latency')) {
      log(`latency: ${CONFIG.rate} jobs/s for ${CONFIG.durationS} s, model after ${CONFIG.modelLatencyMs} ms`);
      await sleep(2_000);
      print(await measurement.run('latency', CONFIG.modelLatencyMs, (s) => s.openLoop(CONFIG.rate, CONFIG.durationS)));
    }
    // Last, so that the broker's and the services' start-up work (JIT, metadata) is over.
    if (CONFIG.measure.includes('idle')) print(await measurement.idle(CONFIG.idleS));
  } finally {
    process.removeListener('SIGINT', stop);
    await measurement.close().catch(() => undefined);
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const stamp = commitStamp();
  const modes = CONFIG.tracing === 'both' ? [false, true] : [CONFIG.tracing === 'on'];
  for (const tracing of modes) await benchStack(tracing, stamp);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
