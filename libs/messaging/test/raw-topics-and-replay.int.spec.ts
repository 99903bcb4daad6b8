import { randomUUID } from 'node:crypto';
import {
  envelopeToHeaders,
  JOB_FAILED_V1,
  JOB_REQUESTED_V1,
  WorkflowDefinitionSchema,
  type Envelope,
} from '@troupe/contracts';
import { createServiceDataSource, messagingMigrations, migrate } from '@troupe/persistence';
import { createTestDatabase, KAFKA_BROKERS, testKafka, waitFor } from '@troupe/testing';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import {
  DLQ_HEADERS,
  InboxTransport,
  KafkajsGateway,
  originalHeaders,
  PermanentError,
  RAW_MESSAGES,
  REPLAY_HEADER,
  type MessageContext,
} from '../src';

// Real Kafka, real Postgres: topics written by other systems (no CloudEvents headers), and the
// replay of dead letters, which the inbox must process once however often it is replayed.

const logger = pino({ level: 'silent' });
let db: { url: string; drop: () => Promise<void> };
let dataSource: DataSource;
let gateway: KafkajsGateway;
const schema = `raw_${randomUUID().slice(0, 8)}`;
const admin = testKafka('troupe-test-admin-raw').admin();

beforeAll(async () => {
  db = await createTestDatabase('rawreplay');
  dataSource = createServiceDataSource({
    schema,
    url: db.url,
    entities: [],
    migrations: messagingMigrations(schema),
  });
  await migrate(dataSource, schema);
  await dataSource.query(`CREATE TABLE ${schema}.effects (id bigserial PRIMARY KEY, job_id text NOT NULL)`);
  gateway = new KafkajsGateway({ brokers: KAFKA_BROKERS, clientId: 'troupe-test-raw' });
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

async function committedOffset(group: string, topic: string): Promise<number> {
  const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return Number(entry.partitions[0].offset);
}

function transport(
  topic: string,
  group: string,
  handler: (data: unknown, ctx: MessageContext) => Promise<void>,
  extras: Record<string, unknown> = {},
) {
  const t = new InboxTransport({
    service: 'intake',
    consumer: group,
    gateway,
    dataSource,
    logger,
    batchSize: 50,
    maxAttempts: 2,
  });
  t.addHandler(topic, handler as never, true, extras);
  return t;
}
const listen = (t: InboxTransport) =>
  new Promise<void>((resolve, reject) => t.listen((err?: unknown) => (err ? reject(err) : resolve())));
const outboxTopics = async (key: string): Promise<string[]> =>
  (await dataSource.query(`SELECT topic FROM outbox WHERE key = $1 ORDER BY seq`, [key])).map(
    (r: { topic: string }) => r.topic,
  );

describe('raw topics', () => {
  it('given plain JSON without CloudEvents headers on a raw topic, when consumed, then the handler gets the JSON and a malformed value is dead-lettered without job.failed', async () => {
    const topic = await newTopic();
    const group = `troupe-test-${randomUUID()}`;
    // By key: a chunk that fails is rolled back and its messages retried one by one.
    const seen = new Map<string | null, unknown>();
    const t = transport(
      topic,
      group,
      async (data, ctx) => {
        if (typeof data !== 'object' || data === null || !('n' in data))
          throw new PermanentError('INVALID_SIGNAL', 'n is required');
        seen.set(ctx.key, { data, header: ctx.headers['x-origin'] });
      },
      { [RAW_MESSAGES]: true },
    );
    await gateway.produce([
      { topic, key: 'k1', value: JSON.stringify({ n: 1 }), headers: { 'x-origin': 'crm' } },
      { topic, key: 'k2', value: '{broken', headers: {} },
      { topic, key: 'k3', value: JSON.stringify({ m: 3 }), headers: {} },
      { topic, key: 'k4', value: JSON.stringify({ n: 4 }), headers: {} },
    ]);
    await listen(t);
    await waitFor(async () => (await committedOffset(group, topic)) === 4, {
      description: 'all four offsets committed',
    });
    await t.close();
    expect([...seen]).toEqual([
      ['k1', { data: { n: 1 }, header: 'crm' }],
      ['k4', { data: { n: 4 }, header: undefined }],
    ]);
    // Dead letters with the reason, and no job.failed: these are not job events.
    expect(await outboxTopics('k2')).toEqual(['troupe.dlq.intake']);
    expect(await outboxTopics('k3')).toEqual(['troupe.dlq.intake']);
    const [k3] = await dataSource.query(`SELECT headers FROM outbox WHERE key = 'k3'`);
    expect(k3.headers[DLQ_HEADERS.code]).toBe('INVALID_SIGNAL');
    expect(k3.headers[DLQ_HEADERS.reason]).toBe('n is required');
  });

  it('given the same topic without the raw flag, when a message has no CloudEvents headers, then it is dead-lettered as INVALID_ENVELOPE', async () => {
    const topic = await newTopic();
    const group = `troupe-test-${randomUUID()}`;
    let calls = 0;
    const t = transport(topic, group, async () => void calls++);
    await gateway.produce([{ topic, key: 'plain-1', value: JSON.stringify({ n: 1 }), headers: {} }]);
    await listen(t);
    await waitFor(async () => (await committedOffset(group, topic)) === 1, {
      description: 'offset committed',
    });
    await t.close();
    expect(calls).toBe(0);
    const [letter] = await dataSource.query(`SELECT headers FROM outbox WHERE key = 'plain-1'`);
    expect(letter.headers[DLQ_HEADERS.code]).toBe('INVALID_ENVELOPE');
  });
});

describe('replay of dead letters', () => {
  it('given an event dead-lettered and then replayed twice after a fix, when consumed, then the fixed handler processes it exactly once', async () => {
    const topic = await newTopic();
    const group = `troupe-test-${randomUUID()}`;
    const jobId = randomUUID();
    const envelope: Envelope = {
      id: randomUUID(),
      source: 'troupe/test',
      type: JOB_FAILED_V1,
      specversion: '1.0',
      time: new Date().toISOString(),
      subject: jobId,
      tenantid: 'acme',
      correlationid: jobId,
    };
    const original = {
      topic,
      key: jobId,
      value: JSON.stringify({ jobId, tenantId: 'acme', stage: 's', code: 'C', reason: 'r' }),
      headers: envelopeToHeaders(envelope),
    };
    let fixed = false;
    const t = transport(topic, group, async (_data, ctx) => {
      if (!fixed) throw new PermanentError('BUG', 'a bug, fixed later');
      await ctx.manager.query(`INSERT INTO effects (job_id) VALUES ($1)`, [jobId]);
    });
    await gateway.produce([original]);
    await listen(t);
    await waitFor(async () => (await committedOffset(group, topic)) === 1, {
      description: 'the dead-lettering',
    });
    const [letter] = await dataSource.query(
      `SELECT headers FROM outbox WHERE key = $1 AND topic = 'troupe.dlq.intake'`,
      [jobId],
    );
    expect(letter.headers[DLQ_HEADERS.code]).toBe('BUG');

    fixed = true;
    // The original redelivered (e.g. a rebalance): still the dead-lettered event, skipped.
    // Then two replays of the dead letter: the original headers, plus which dead letter they replay.
    const replay = {
      ...original,
      headers: { ...originalHeaders(letter.headers), [REPLAY_HEADER]: 'troupe.dlq.intake/0/7' },
    };
    expect(replay.headers.ce_id).toBe(envelope.id);
    expect(Object.keys(replay.headers).some((h) => h.startsWith('troupe_dlq_'))).toBe(false);
    await gateway.produce([original, replay, replay]);
    await waitFor(async () => (await committedOffset(group, topic)) === 4, {
      description: 'the replays consumed',
    });
    await t.close();
    expect(
      await dataSource.query(`SELECT count(*)::int AS n FROM effects WHERE job_id = $1`, [jobId]),
    ).toEqual([{ n: 1 }]);
  });
});

describe('job.failed from a dead-lettered job event', () => {
  it('given a failing job.requested with a webhook, when dead-lettered, then the job.failed carries the webhook, workflow and metadata', async () => {
    const topic = await newTopic();
    const group = `troupe-test-${randomUUID()}`;
    const jobId = randomUUID();
    const workflow = WorkflowDefinitionSchema.parse({
      id: 'w',
      version: 3,
      classification: { kind: 'rules', defaultLabel: 'x' },
      generation: { routes: { default: { model: 'local/extractive-summary' } } },
      output: { schema: { type: 'object' } },
    });
    const envelope: Envelope = {
      id: randomUUID(),
      source: 'troupe/test',
      type: JOB_REQUESTED_V1,
      specversion: '1.0',
      time: new Date().toISOString(),
      subject: jobId,
      tenantid: 'acme',
      correlationid: jobId,
    };
    const data = {
      jobId,
      tenantId: 'acme',
      workflow,
      input: { text: 'x' },
      webhook: { url: 'https://hooks.example.com/t' },
      metadata: { order: '42' },
      requestedAt: new Date().toISOString(),
    };
    const t = transport(topic, group, async () => {
      throw new PermanentError('BROKEN', 'cannot handle this job');
    });
    await gateway.produce([
      { topic, key: jobId, value: JSON.stringify(data), headers: envelopeToHeaders(envelope) },
    ]);
    await listen(t);
    await waitFor(async () => (await committedOffset(group, topic)) === 1, {
      description: 'the dead-lettering',
    });
    await t.close();
    const [failed] = await dataSource.query(
      `SELECT value FROM outbox WHERE key = $1 AND topic = 'troupe.job.failed'`,
      [jobId],
    );
    expect(JSON.parse(failed.value.toString())).toEqual({
      jobId,
      tenantId: 'acme',
      stage: 'intake',
      code: 'BROKEN',
      reason: 'cannot handle this job',
      failedTopic: topic, // delivery learns from it that the job's request itself was unreadable or not
      webhook: { url: 'https://hooks.example.com/t' },
      workflow: { id: 'w', version: 3 },
      metadata: { order: '42' },
    });
  });
});
