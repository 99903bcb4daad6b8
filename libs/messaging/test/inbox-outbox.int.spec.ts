import { randomUUID } from 'node:crypto';
import { envelopeToHeaders, JOB_FAILED_V1, topicSpecs, type Envelope } from '@troupe/contracts';
import { createServiceDataSource, messagingMigrations, migrate } from '@troupe/persistence';
import { createTestDatabase, KAFKA_BROKERS, readTopicUntil, testKafka, waitFor } from '@troupe/testing';
import pino from 'pino';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import {
  appendToOutbox,
  DLQ_HEADERS,
  InboxTransport,
  KafkajsGateway,
  MARK_SENT_BY_ID,
  markJobCancelled,
  OutboxRelay,
  preparePattern,
  toOutboxRecord,
  TransientError,
  type MessageContext,
} from '../src';

// Real Kafka, real Postgres: the idempotent consumer, the outbox relay and dead-lettering.

const logger = pino({ level: 'silent' });
const SERVICE = 'validation' as const; // any stage name: decides the dead-letter topic

class Effects1 implements MigrationInterface {
  name = 'Effects1000000000001';
  async up(q: QueryRunner) {
    await q.query(`CREATE TABLE effects (id bigserial PRIMARY KEY, job_id text NOT NULL, reason text NOT NULL)`);
  }
  async down() {}
}

let db: { url: string; drop: () => Promise<void> };
let dataSource: DataSource;
let gateway: KafkajsGateway;
const schema = `msg_${randomUUID().slice(0, 8)}`;
const admin = testKafka('troupe-test-admin').admin();

beforeAll(async () => {
  db = await createTestDatabase('messaging');
  dataSource = createServiceDataSource({
    schema,
    url: db.url,
    entities: [],
    migrations: [...messagingMigrations(schema), Effects1],
  });
  await migrate(dataSource, schema);
  gateway = new KafkajsGateway({ brokers: KAFKA_BROKERS, clientId: 'troupe-test' });
  await gateway.ensureTopics(topicSpecs(6)); // the job and dead-letter topics, as services create them
  await admin.connect();
});

afterAll(async () => {
  await gateway.disconnect();
  await admin.disconnect();
  await dataSource.destroy();
  await db.drop();
});

async function newTopic(): Promise<string> {
  const topic = `troupe.test.${randomUUID()}`;
  await gateway.ensureTopics([{ name: topic, partitions: 1, retentionMs: 3_600_000 }]);
  return topic;
}

/** A valid job.failed event (a simple schema) as Kafka message parts. */
function event(jobId: string, reason: string, id = randomUUID()) {
  const envelope: Envelope = {
    id,
    source: 'troupe/test',
    type: JOB_FAILED_V1,
    specversion: '1.0',
    time: new Date().toISOString(),
    subject: jobId,
    tenantid: 'acme',
    correlationid: jobId,
  };
  return {
    key: jobId,
    value: JSON.stringify({ jobId, tenantId: 'acme', stage: 'test', code: 'TEST', reason }),
    headers: envelopeToHeaders(envelope),
  };
}

async function produce(topic: string, messages: ReturnType<typeof event>[]) {
  await gateway.produce(messages.map((m) => ({ topic, ...m })));
}

async function committedOffset(group: string, topic: string): Promise<number> {
  const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return Number(entry.partitions[0].offset);
}

const effects = async (jobId: string): Promise<string[]> =>
  (await dataSource.query(`SELECT reason FROM effects WHERE job_id = $1 ORDER BY id`, [jobId])).map(
    (r: { reason: string }) => r.reason,
  );

function transport(topic: string, group: string, handler: (data: { jobId: string; reason: string }, ctx: MessageContext) => Promise<void>, extra: Partial<ConstructorParameters<typeof InboxTransport>[0]> = {}) {
  const t = new InboxTransport({
    service: SERVICE,
    consumer: group,
    gateway,
    dataSource,
    logger,
    batchSize: 50,
    maxAttempts: 3,
    ...extra,
  });
  t.addHandler(topic, handler as never, true);
  return t;
}

const listen = (t: InboxTransport) =>
  new Promise<void>((resolve, reject) => t.listen((err?: unknown) => (err ? reject(err) : resolve())));

/** The effect a handler has: a row in its own table, in the batch's transaction. */
const recordEffect = async (data: { jobId: string; reason: string }, ctx: MessageContext) => {
  await ctx.manager.query(`INSERT INTO effects (job_id, reason) VALUES ($1, $2)`, [data.jobId, data.reason]);
};

describe('idempotent consumer (inbox)', () => {
  it('given the same event delivered twice, when consumed, then it has one effect', async () => {
    const topic = await newTopic();
    const group = `troupe-test-${randomUUID()}`;
    const jobId = randomUUID();
    const message = event(jobId, 'once');
    await produce(topic, [message, message]);

    const t = transport(topic, group, recordEffect);
    await listen(t);
    await waitFor(async () => (await committedOffset(group, topic)) === 2, { description: 'both offsets committed' });
    await t.close();

    expect(await effects(jobId)).toEqual(['once']);
  });

  it('given a crash after the database commit and before the offset commit, when restarted, then no effect is repeated', async () => {
    const topic = await newTopic();
    const group = `troupe-test-${randomUUID()}`;
    const jobId = randomUUID();
    await produce(topic, [event(jobId, 'a'), event(jobId, 'b')]);

    let calls = 0;
    const counting = async (data: { jobId: string; reason: string }, ctx: MessageContext) => {
      calls++;
      await recordEffect(data, ctx);
    };
    let crashed = false;
    const first = transport(topic, group, counting, {
      afterCommit: async () => {
        crashed = true;
        throw new Error('simulated crash between database commit and offset commit');
      },
    });
    await listen(first);
    await waitFor(() => crashed, { description: 'the simulated crash' });
    await first.close();
    expect(await committedOffset(group, topic)).toBeLessThan(2); // the offset was never committed

    const restarted = transport(topic, group, counting);
    await listen(restarted);
    await waitFor(async () => (await committedOffset(group, topic)) === 2, { description: 'offsets after restart' });
    await restarted.close();

    expect(calls).toBe(2); // the redelivered events were recognised and skipped
    expect(await effects(jobId)).toEqual(['a', 'b']);
  });

  it('given a transient failure, when retried, then the event has one effect and is not dead-lettered', async () => {
    const topic = await newTopic();
    const group = `troupe-test-${randomUUID()}`;
    const jobId = randomUUID();
    await produce(topic, [event(jobId, 'flaky')]);
    let calls = 0;
    const t = transport(topic, group, async (data, ctx) => {
      if (++calls === 1) throw new TransientError('database busy');
      await recordEffect(data, ctx);
    });
    await listen(t);
    await waitFor(async () => (await committedOffset(group, topic)) === 1, { description: 'offset committed' });
    await t.close();
    expect(calls).toBe(2);
    expect(await effects(jobId)).toEqual(['flaky']);
    const [{ count }] = await dataSource.query(`SELECT count(*)::int AS count FROM outbox WHERE key = $1`, [jobId]);
    expect(count).toBe(0);
  });
});

describe('prepare phase (slow calls outside the transaction)', () => {
  const openTransactions = async () =>
    Number(
      (
        await dataSource.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
        )
      )[0].n,
    );

  it('given a chunk of five messages, when prepared, then the calls run concurrently with no transaction open and the handler gets each result', async () => {
    const topic = await newTopic();
    const group = `troupe-test-${randomUUID()}`;
    const jobId = randomUUID();
    await produce(topic, ['a', 'b', 'c', 'd', 'e'].map((r) => event(jobId, r)));
    let inFlight = 0;
    let peak = 0;
    const transactionsSeen: number[] = [];
    const t = transport(topic, group, async (data, ctx) => {
      await recordEffect({ ...data, reason: ctx.prepared<string>() }, ctx);
    });
    t.addHandler(
      preparePattern(topic),
      (async (data: { reason: string }) => {
        peak = Math.max(peak, ++inFlight);
        transactionsSeen.push(await openTransactions());
        await new Promise((r) => setTimeout(r, 200)); // a slow model call
        inFlight--;
        return `prepared ${data.reason}`;
      }) as never,
      true,
    );
    const started = Date.now();
    await listen(t);
    await waitFor(async () => (await committedOffset(group, topic)) === 5, { description: 'five offsets committed' });
    await t.close();
    expect(await effects(jobId)).toEqual(['prepared a', 'prepared b', 'prepared c', 'prepared d', 'prepared e']);
    expect(peak).toBeGreaterThan(1); // not one after another
    expect(transactionsSeen.every((n) => n === 0)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5 * 200 + 5_000);
  });

  it('given a neighbour whose handler fails and an event delivered twice, when consumed, then no message is prepared twice', async () => {
    const topic = await newTopic();
    const group = `troupe-test-${randomUUID()}`;
    const jobId = randomUUID();
    const twice = event(jobId, 'twice');
    await produce(topic, [event(jobId, 'good'), event(jobId, 'bad'), twice]);
    const prepared: string[] = [];
    const t = transport(topic, group, async (data, ctx) => {
      if (data.reason === 'bad') throw new Error('handler broken for this one');
      await recordEffect({ ...data, reason: ctx.prepared<string>() }, ctx);
    });
    t.addHandler(preparePattern(topic), (async (data: { reason: string }) => (prepared.push(data.reason), data.reason.toUpperCase())) as never, true);
    await listen(t);
    await waitFor(async () => (await committedOffset(group, topic)) === 3, { timeoutMs: 30_000, description: 'three offsets committed' });
    await produce(topic, [twice]); // a redelivery of an event already processed
    await waitFor(async () => (await committedOffset(group, topic)) === 4, { description: 'the duplicate committed' });
    await t.close();
    expect(await effects(jobId)).toEqual(['GOOD', 'TWICE']);
    // `bad` is prepared once: its preparation succeeded, only its handler failed (3 attempts).
    expect(prepared.sort()).toEqual(['bad', 'good', 'twice']);
  });

  it('given a shutdown during a slow prepare, when closed, then the work is cancelled, nothing is committed, and a restart processes it', async () => {
    const topic = await newTopic();
    const group = `troupe-test-${randomUUID()}`;
    const jobId = randomUUID();
    await produce(topic, [event(jobId, 'slow')]);
    let started = false;
    let cancelled = false;
    const slow = (async (_data: unknown, ctx: { signal: AbortSignal }) => {
      started = true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 60_000); // a model call far longer than any shutdown timeout
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          cancelled = true;
          resolve();
        });
      });
      return 'cut short';
    }) as never;
    const first = transport(topic, group, async (data, ctx) => recordEffect({ ...data, reason: ctx.prepared<string>() }, ctx));
    first.addHandler(preparePattern(topic), slow, true);
    await listen(first);
    await waitFor(() => started, { description: 'the slow prepare to start' });
    const closing = Date.now();
    await first.close();
    expect(Date.now() - closing).toBeLessThan(10_000);
    expect(cancelled).toBe(true);
    expect(await effects(jobId)).toEqual([]); // the cut-short result was not recorded

    const restarted = transport(topic, group, async (data, ctx) => recordEffect({ ...data, reason: ctx.prepared<string>() }, ctx));
    restarted.addHandler(preparePattern(topic), (async () => 'after restart') as never, true);
    await listen(restarted);
    await waitFor(async () => (await committedOffset(group, topic)) === 1, { description: 'offset committed after restart' });
    await restarted.close();
    expect(await effects(jobId)).toEqual(['after restart']);
  });

  it('given a prepare handler that fails once, when retried, then it is prepared again and has one effect', async () => {
    const topic = await newTopic();
    const group = `troupe-test-${randomUUID()}`;
    const jobId = randomUUID();
    await produce(topic, [event(jobId, 'flaky')]);
    let calls = 0;
    const t = transport(topic, group, async (data, ctx) => recordEffect({ ...data, reason: ctx.prepared<string>() }, ctx));
    t.addHandler(
      preparePattern(topic),
      (async () => {
        if (++calls === 1) throw new TransientError('provider hiccup');
        return 'second try';
      }) as never,
      true,
    );
    await listen(t);
    await waitFor(async () => (await committedOffset(group, topic)) === 1, { description: 'offset committed' });
    await t.close();
    expect(calls).toBe(2);
    expect(await effects(jobId)).toEqual(['second try']);
  });
});

describe('dead letters', () => {
  it('given a poison message between two good ones, when consumed, then it is dead-lettered with its reason and headers and the next message is still processed', async () => {
    const topic = await newTopic();
    const group = `troupe-test-${randomUUID()}`;
    const jobId = randomUUID();
    const poison = { ...event(jobId, 'poison'), value: '{not json' };
    await produce(topic, [event(jobId, 'before'), poison, event(jobId, 'after')]);

    const t = transport(topic, group, recordEffect);
    await listen(t);
    await waitFor(async () => (await committedOffset(group, topic)) === 3, { description: 'all three offsets committed' });
    await t.close();
    expect(await effects(jobId)).toEqual(['before', 'after']);

    const relay = new OutboxRelay({
      service: SERVICE,
      dataSource,
      gateway,
      logger,
      batchSize: 100,
      pollIntervalMs: 100,
    });
    await relay.drain();
    const dlq = await readTopicUntil(`troupe.dlq.${SERVICE}`, (ms) => ms.some((m) => m.key?.toString() === jobId));
    const letter = dlq.find((m) => m.key?.toString() === jobId)!;
    const header = (name: string) => letter.headers?.[name]?.toString();
    expect(header(DLQ_HEADERS.code)).toBe('INVALID_JSON');
    expect(header(DLQ_HEADERS.reason)).toMatch(/not JSON/);
    expect(header(DLQ_HEADERS.topic)).toBe(topic);
    expect(header(DLQ_HEADERS.offset)).toBe('1');
    expect(header('ce_id')).toBe(poison.headers.ce_id); // original headers kept
    expect(letter.value?.toString()).toBe('{not json');
  });

  it('given a handler that always fails, when the attempts run out, then the message is dead-lettered and the job gets job.failed', async () => {
    const topic = await newTopic();
    const group = `troupe-test-${randomUUID()}`;
    const jobId = randomUUID();
    await produce(topic, [event(jobId, 'doomed')]);
    let calls = 0;
    const t = transport(topic, group, async () => {
      calls++;
      throw new Error('always broken');
    });
    await listen(t);
    await waitFor(async () => (await committedOffset(group, topic)) === 1, { timeoutMs: 30_000, description: 'offset committed' });
    await t.close();
    expect(calls).toBe(3); // maxAttempts
    const rows: { topic: string }[] = await dataSource.query(`SELECT topic FROM outbox WHERE key = $1 ORDER BY seq`, [jobId]);
    expect(rows.map((r) => r.topic)).toEqual([`troupe.dlq.${SERVICE}`, 'troupe.job.failed']);
  });
});

describe('transactional outbox', () => {
  it('given a running relay that would not poll for a minute, when a transaction appends outbox rows and commits, then the relay is woken and publishes them', async () => {
    const relay = new OutboxRelay({ service: SERVICE, dataSource, gateway, logger, batchSize: 100, pollIntervalMs: 60_000 });
    await relay.start();
    const jobId = randomUUID();
    await dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO effects (job_id, reason) VALUES ($1, 'woken')`, [jobId]);
      await appendToOutbox(manager, [
        toOutboxRecord(
          { type: JOB_FAILED_V1, data: { jobId, tenantId: 'acme', stage: 'test', code: 'TEST', reason: 'wake-up' } },
          { service: 'test', correlationId: jobId },
        ),
      ]);
    });
    // Far sooner than the poll: only the wake-up after the commit can have published it.
    await readTopicUntil('troupe.job.failed', (ms) => ms.some((m) => m.key?.toString() === jobId), 20_000);
    await relay.stop();
  });

  it('given a business write whose service crashed before publishing, when a relay starts, then the event is published with its trace context', async () => {
    const jobId = randomUUID();
    // The business write and its event commit together; no relay is running (the "crash").
    const record = toOutboxRecord(
      { type: JOB_FAILED_V1, data: { jobId, tenantId: 'acme', stage: 'test', code: 'TEST', reason: 'outbox' } },
      { service: 'test', correlationId: jobId },
    );
    record.headers.traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO effects (job_id, reason) VALUES ($1, 'business write')`, [jobId]);
      await appendToOutbox(manager, [record]);
    });

    const relay = new OutboxRelay({
      service: SERVICE,
      dataSource,
      gateway,
      logger,
      batchSize: 100,
      pollIntervalMs: 5_000, // the start-up pass must publish it, not the poll
    });
    await relay.start();
    const seen = await readTopicUntil('troupe.job.failed', (ms) => ms.some((m) => m.key?.toString() === jobId));
    await relay.stop();
    const published = seen.find((m) => m.key?.toString() === jobId)!;
    expect(published.headers?.ce_id?.toString()).toBe(record.id);
    // The publish span continues the trace saved in the row.
    expect(published.headers?.traceparent?.toString()).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-/);
    const [{ sent }] = await dataSource.query(`SELECT sent_at IS NOT NULL AS sent FROM outbox WHERE id = $1`, [record.id]);
    expect(sent).toBe(true);
  });
});

describe('the relay\'s direct path', () => {
  const failed = (jobId: string, reason: string) =>
    toOutboxRecord({ type: JOB_FAILED_V1, data: { jobId, tenantId: 'acme', stage: 'test', code: 'TEST', reason } }, { service: 'test', correlationId: jobId });
  const reasonsOf = (messages: { key: Buffer | null; value: Buffer | null }[], jobId: string) =>
    messages.filter((m) => m.key?.toString() === jobId).map((m) => JSON.parse(m.value!.toString()).reason as string);

  /** Another process's data source on the same outbox (a replica): this relay is never told of its commits. */
  async function otherReplica(): Promise<DataSource> {
    const other = createServiceDataSource({ schema, url: db.url, entities: [], migrations: [] });
    return other.initialize();
  }

  /** A started relay whose first event has gone out: it is on the direct path. */
  async function relayOnDirectPath(pollIntervalMs: number, jobId: string, first: string): Promise<OutboxRelay> {
    const relay = new OutboxRelay({ service: SERVICE, dataSource, gateway, logger, batchSize: 100, pollIntervalMs });
    await relay.start();
    await dataSource.transaction((manager) => appendToOutbox(manager, [failed(jobId, first)]));
    await readTopicUntil('troupe.job.failed', (ms) => reasonsOf(ms, jobId).includes(first));
    return relay;
  }

  it('given a savepoint that appended an event and rolled back, when its transaction commits, then only the committed event is published', async () => {
    const jobId = randomUUID();
    const relay = await relayOnDirectPath(60_000, jobId, 'warm-up');
    await dataSource.transaction(async (manager) => {
      await expect(
        manager.transaction(async (inner) => {
          await appendToOutbox(inner, [failed(jobId, 'rolled back')]);
          throw new Error('abort the savepoint');
        }),
      ).rejects.toThrow('abort the savepoint');
      await appendToOutbox(manager, [failed(jobId, 'committed')]);
    });
    const seen = await readTopicUntil('troupe.job.failed', (ms) => reasonsOf(ms, jobId).includes('committed'));
    await relay.stop();
    // Published together had it been handed over: it would come before the committed one.
    expect(reasonsOf(seen, jobId)).toEqual(['warm-up', 'committed']);
    const [{ unsent }] = await dataSource.query(`SELECT count(*)::int AS unsent FROM outbox WHERE key = $1 AND sent_at IS NULL`, [jobId]);
    expect(unsent).toBe(0);
  });

  it('given rows left unsent by another process, when a relay starts and this process commits more, then all are published once, the older first', async () => {
    const jobId = randomUUID();
    const other = await otherReplica();
    try {
      await other.transaction((manager) => appendToOutbox(manager, [failed(jobId, 'left 1'), failed(jobId, 'left 2')]));
      await other.transaction((manager) => appendToOutbox(manager, [failed(jobId, 'left 3')]));
    } finally {
      await other.destroy();
    }
    const relay = new OutboxRelay({ service: SERVICE, dataSource, gateway, logger, batchSize: 2, pollIntervalMs: 60_000 });
    await relay.start();
    await dataSource.transaction((manager) => appendToOutbox(manager, [failed(jobId, 'new 1')]));
    await dataSource.transaction((manager) => appendToOutbox(manager, [failed(jobId, 'new 2')]));
    const seen = await readTopicUntil('troupe.job.failed', (ms) => reasonsOf(ms, jobId).length >= 5);
    await relay.stop();
    expect(reasonsOf(seen, jobId)).toEqual(['left 1', 'left 2', 'left 3', 'new 1', 'new 2']);
  });

  it('given a relay on the direct path, when another replica commits a row and dies before publishing it, then this relay claims and publishes it', async () => {
    const jobId = randomUUID();
    const relay = await relayOnDirectPath(200, jobId, 'mine');
    const other = await otherReplica();
    try {
      await other.transaction((manager) => appendToOutbox(manager, [failed(jobId, 'orphaned')]));
    } finally {
      await other.destroy();
    }
    const seen = await readTopicUntil('troupe.job.failed', (ms) => reasonsOf(ms, jobId).includes('orphaned'), 20_000);
    await waitFor(async () => (await dataSource.query(`SELECT 1 FROM outbox WHERE key = $1 AND sent_at IS NULL`, [jobId])).length === 0, {
      description: 'the orphaned row marked sent',
    });
    await relay.stop();
    expect(reasonsOf(seen, jobId)).toEqual(['mine', 'orphaned']);
  });
});

describe('marking rows sent', () => {
  it('given published rows, when marked sent, then that transaction commits asynchronously and the session keeps synchronous commits', async () => {
    const jobId = randomUUID();
    const record = toOutboxRecord({ type: JOB_FAILED_V1, data: { jobId, tenantId: 'acme', stage: 'test', code: 'TEST', reason: 'x' } }, { service: 'test', correlationId: jobId });
    const { id } = record;
    await dataSource.transaction((manager) => appendToOutbox(manager, [record]));
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      await runner.query(MARK_SENT_BY_ID, [[id]]);
      // Inside the mark's transaction, and only there, commits do not wait for the WAL flush.
      expect((await runner.query('SHOW synchronous_commit'))[0].synchronous_commit).toBe('off');
      await runner.commitTransaction();
      expect((await runner.query('SHOW synchronous_commit'))[0].synchronous_commit).toBe('on');
      // On its own (the relay's direct path) the statement is its own transaction: nothing leaks either.
      await runner.query(MARK_SENT_BY_ID, [[id]]);
      expect((await runner.query('SHOW synchronous_commit'))[0].synchronous_commit).toBe('on');
    } finally {
      await runner.release();
    }
    const [{ sent }] = await dataSource.query(`SELECT sent_at IS NOT NULL AS sent FROM outbox WHERE id = $1`, [id]);
    expect(sent).toBe(true);
  });
});

describe('cancelled jobs, after-commit callbacks and the consumer gate', () => {
  it('given a job marked cancelled, when its events arrive, then they are skipped while other jobs\' are handled', async () => {
    const topic = await newTopic();
    const [cancelled, live] = [randomUUID(), randomUUID()];
    const marker = transport(topic, `troupe-test-${randomUUID()}`, async (data, ctx) => markJobCancelled(ctx, data.jobId));
    await listen(marker);
    await produce(topic, [event(cancelled, 'cancel it')]);
    await waitFor(async () => (await dataSource.query(`SELECT 1 FROM cancelled_jobs WHERE job_id = $1`, [cancelled])).length === 1);
    await marker.close();

    const group = `troupe-test-${randomUUID()}`;
    const t = transport(topic, group, recordEffect, { dropCancelledJobs: true });
    const second = await newTopic();
    t.addHandler(second, recordEffect as never, true);
    await listen(t);
    await produce(second, [event(cancelled, 'dropped'), event(live, 'handled')]);
    await waitFor(async () => (await effects(live)).length === 1, { description: 'the live job to be handled' });
    expect(await effects(cancelled)).toEqual([]);
    // Skipped, not lost: the inbox recorded it, and the offset moved past it.
    await waitFor(async () => (await committedOffset(group, second)) === 2);
    await t.close();
  });

  it('given onCommit callbacks, then they run after the commit, and not for a transaction that rolled back', async () => {
    const topic = await newTopic();
    const jobId = randomUUID();
    const calls: { attempt: number; committed: string[] }[] = [];
    let attempt = 0;
    const t = transport(topic, `troupe-test-${randomUUID()}`, async (data, ctx) => {
      const mine = ++attempt;
      await recordEffect(data, ctx);
      // What another connection sees when the callback runs: the effect must be committed already.
      ctx.onCommit(() => void effects(data.jobId).then((committed) => calls.push({ attempt: mine, committed })));
      if (mine === 1) throw new TransientError('first try fails after registering its callback');
    });
    await listen(t);
    await produce(topic, [event(jobId, 'once')]);
    await waitFor(() => calls.length === 1, { description: 'the after-commit callback' });
    await t.close();
    expect(calls).toEqual([{ attempt: 2, committed: ['once'] }]);
  });

  it('given a closed gate, when events arrive, then nothing is consumed until it opens', async () => {
    const topic = await newTopic();
    const jobId = randomUUID();
    let open!: () => void;
    let asked = 0;
    const gate = { wait: () => (asked++ === 0 ? new Promise<void>((resolve) => (open = resolve)) : Promise.resolve()) };
    const t = transport(topic, `troupe-test-${randomUUID()}`, recordEffect, { gate });
    await listen(t);
    await produce(topic, [event(jobId, 'gated')]);
    await waitFor(() => asked === 1, { description: 'the consumer to wait at the gate' });
    expect(await effects(jobId)).toEqual([]);
    open();
    await waitFor(async () => (await effects(jobId)).length === 1, { description: 'the event after the gate opened' });
    await t.close();
  });
});
