import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readTopicUntil, repoRoot, startWebhookReceiver, testKafka, waitFor } from '@troupe/testing';
import type { Producer } from 'kafkajs';
import { envelopeToHeaders } from '@troupe/contracts';
import {
  ACME_KEY,
  ADMIN_KEY,
  SECRET,
  SERVICES,
  startTroupe,
  type TroupeSystem,
} from './support/troupe-system';

// Signals in from Kafka, and dead letters out and back: five service processes, a real broker, a
// real PostgreSQL, a real webhook receiver.

const INITECH_KEY = 'initech-e2e-key-0123456789';
let troupe: TroupeSystem;
let producer: Producer;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

beforeAll(async () => {
  receiver = await startWebhookReceiver(SECRET);
  troupe = await startTroupe({ label: 'signals' });
  producer = testKafka('troupe-test-signals').producer();
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await receiver?.close();
  const codes = await troupe?.stop();
  expect(codes).toEqual(SERVICES.map(() => 0));
});

/** Whether a consumer group has committed every one of at least `atLeast` messages on a topic. */
async function consumedToTheEnd(groupId: string, topic: string, atLeast: number) {
  const admin = testKafka('troupe-test-offsets').admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const total = ends.reduce((n, p) => n + Number(p.high), 0);
    const done = ends.every(
      (p) =>
        Number(committed.partitions.find((c) => c.partition === p.partition)?.offset ?? -1) >=
          Number(p.high) || p.high === '0',
    );
    return total >= atLeast && done;
  } finally {
    await admin.disconnect();
  }
}

const publish = (...values: (string | object)[]) =>
  producer.send({
    topic: 'troupe.signals',
    messages: values.map((v) => ({ key: 'crm', value: typeof v === 'string' ? v : JSON.stringify(v) })),
  });

async function jobsWithSignal(signalId: string, key = ACME_KEY) {
  const response = await troupe.request('/v1/jobs?limit=100', { key });
  const { items } = (await response.json()) as {
    items: { id: string; status: string; metadata: Record<string, string> }[];
  };
  return items.filter((j) => j.metadata.signalId === signalId);
}

async function deadLetters(query = '') {
  const response = await troupe.request(`/v1/admin/dead-letters${query}`, { key: ADMIN_KEY });
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: Record<string, any>[] }).items;
}

describe('signals topic', () => {
  it('given the same signal published three times, then one job is created, delivered once to its webhook', async () => {
    const signal = {
      signalId: 'crm-ticket-4711',
      tenantId: 'acme',
      workflow: 'support-ticket-reply',
      input: { text: 'I was charged twice for my subscription, please refund the extra payment.' },
      webhook: { url: receiver.url },
      metadata: { crmTicket: '4711' },
    };
    await publish(signal, signal);
    await publish(signal); // later, in another batch
    const [job] = await waitFor(
      async () => {
        const found = await jobsWithSignal('crm-ticket-4711');
        return found.length > 0 && found.every((j) => j.status === 'delivered') ? found : undefined;
      },
      { description: 'the signal’s job to be delivered' },
    );
    // Let every copy be consumed (the marker signal behind them), then count again.
    await publish({ ...signal, signalId: 'marker-1', webhook: undefined });
    await waitFor(async () => (await jobsWithSignal('marker-1')).length === 1, {
      description: 'the marker signal',
    });
    expect(await jobsWithSignal('crm-ticket-4711')).toHaveLength(1);
    expect((await troupe.job(job.id)).body).toMatchObject({
      metadata: { crmTicket: '4711', signalId: 'crm-ticket-4711' },
      outcome: 'succeeded',
    });
    expect(receiver.received.filter((r) => r.payload?.data.jobId === job.id)).toHaveLength(1);
  });

  it('given malformed signals, then each goes to troupe.dlq.intake with the reason, and the next good signal still becomes a job', async () => {
    await publish(
      '{this is not json',
      { signalId: 'bad-1', tenantId: 'acme' },
      { signalId: 'bad-2', tenantId: 'acme', workflow: 'no-such-flow', input: { text: 'x' } },
    );
    await publish({
      signalId: 'good-after-bad',
      tenantId: 'acme',
      workflow: 'document-summary',
      input: { text: 'Still working. After bad input.' },
    });
    await waitFor(async () => (await jobsWithSignal('good-after-bad')).length === 1, {
      description: 'the good signal after the bad ones',
    });
    const letters = await readTopicUntil(
      'troupe.dlq.intake',
      (ms) => ms.filter((m) => m.headers?.troupe_dlq_topic?.toString() === 'troupe.signals').length >= 3,
    );
    const fromSignals = letters.filter((m) => m.headers?.troupe_dlq_topic?.toString() === 'troupe.signals');
    const byCode = Object.fromEntries(
      fromSignals.map((m) => [
        m.headers!.troupe_dlq_code!.toString(),
        m.headers!.troupe_dlq_reason!.toString(),
      ]),
    );
    expect(byCode.INVALID_JSON).toMatch(/not JSON/);
    expect(byCode.INVALID_SIGNAL).toMatch(/workflow: Required/);
    expect(byCode.UNKNOWN_WORKFLOW).toMatch(/no workflow named no-such-flow/);
    // No job.failed for a signal that never became a job.
    expect(fromSignals.every((m) => m.key?.toString() === 'crm')).toBe(true);

    // The operator sees them through the admin API, filtered by stage.
    const listed = await waitFor(
      async () => {
        const items = await deadLetters('?stage=intake');
        return items.filter((l) => l.originalTopic === 'troupe.signals').length >= 3 ? items : undefined;
      },
      { description: 'the dead letters indexed' },
    );
    expect(listed.find((l) => l.code === 'INVALID_SIGNAL')).toMatchObject({
      stage: 'intake',
      originalTopic: 'troupe.signals',
      replayCount: 0,
      value: expect.stringContaining('bad-1'),
    });
    expect((await troupe.request('/v1/admin/dead-letters', { key: ACME_KEY })).status).toBe(403); // operators only
  });
});

describe('poison messages', () => {
  it('given a signal holding a NUL character, then it is dead-lettered at once with the true reason, and counted once', async () => {
    await publish({ signalId: 'nul-1', tenantId: 'acme', workflow: 'document-summary', input: { text: 'before\u0000after' } });
    const letters = await readTopicUntil('troupe.dlq.intake', (ms) => ms.some((m) => m.value?.toString().includes('nul-1')));
    const letter = letters.find((m) => m.value?.toString().includes('nul-1'))!;
    expect(letter.headers!.troupe_dlq_code!.toString()).toBe('INVALID_TEXT');
    expect(letter.headers!.troupe_dlq_reason!.toString()).toMatch(/cannot be stored at input\.text/);
    expect(letter.headers!.troupe_dlq_attempts!.toString()).toBe('1'); // not retried: it is the signal's fault
    const metrics = await (await troupe.request('/metrics', { key: ADMIN_KEY })).text();
    const line = metrics.split('\n').find((l) => l.startsWith('troupe_consumer_messages_total{') && l.includes('topic="troupe.signals"') && l.includes('outcome="dead_lettered"'));
    expect(Number(line?.slice(line.lastIndexOf(' ') + 1))).toBe(4); // the three malformed signals above and this one
  });

  it('given a job.requested that breaks its schema, then classification alone fails the job, once, and delivery notifies the webhook it names without having read the request', async () => {
    const jobId = randomUUID();
    const envelope = {
      id: randomUUID(),
      source: 'troupe/test',
      type: 'troupe.job.requested.v1',
      specversion: '1.0' as const,
      time: new Date().toISOString(),
      subject: jobId,
      tenantid: 'acme',
      correlationid: jobId,
    };
    // A webhook and workflow it names, and an input of the wrong type.
    const data = { jobId, tenantId: 'acme', webhook: { url: receiver.url }, workflow: { id: 'document-summary', version: 1 }, input: { text: 42 } };
    await producer.send({ topic: 'troupe.job.requested', messages: [{ key: jobId, value: JSON.stringify(data), headers: envelopeToHeaders(envelope) }] });
    const arrived = await waitFor(() => receiver.received.find((r) => r.payload?.data.jobId === jobId), { description: 'the job.failed webhook' });
    expect(arrived.payload).toMatchObject({ type: 'job.failed', data: { jobId, error: { stage: 'classification', code: 'SCHEMA_VIOLATION' } } });
    // Every consumer of job.requested has read past it (dead-lettering it where it could not be read)...
    await waitFor(
      async () =>
        (await consumedToTheEnd('troupe-classification', 'troupe.job.requested', 1)) &&
        (await consumedToTheEnd('troupe-delivery', 'troupe.job.requested', 1)) &&
        (await consumedToTheEnd('troupe-delivery', 'troupe.job.failed', 1)),
      { description: 'the poison request consumed everywhere' },
    );
    // ...and there is one job.failed, and no letter for the failure itself.
    const failures = await readTopicUntil('troupe.job.failed', (ms) => ms.some((m) => m.key?.toString() === jobId));
    expect(failures.filter((m) => m.key?.toString() === jobId)).toHaveLength(1);
    const letters = await deadLetters('?stage=delivery');
    expect(letters.filter((l) => l.jobId === jobId).map((l) => l.originalTopic)).toEqual(['troupe.job.requested']);
  });
});

describe('dead letters and replay', () => {
  it('given a signal dead-lettered for an unknown tenant, when intake is fixed and the letter replayed twice, then exactly one job is created', async () => {
    const signal = {
      signalId: 'initech-1',
      tenantId: 'initech',
      workflow: 'document-summary',
      input: { text: 'Initech onboarding. It starts today.' },
    };
    await publish(signal);
    const letter = await waitFor(
      async () =>
        (await deadLetters('?stage=intake&code=UNKNOWN_TENANT')).find((l) => l.value.includes('initech-1')),
      {
        description: 'the unknown-tenant dead letter',
      },
    );
    expect(letter.reason).toMatch(/tenant initech is not configured/);

    // The fix: intake restarted with the tenant configured.
    expect(
      await troupe.restart('intake', {
        TROUPE_API_KEYS: `${troupe.env.TROUPE_API_KEYS},initech:submitter:${INITECH_KEY}`,
      }),
    ).toBe(0);
    const replay = async () => {
      const response = await troupe.request(`/v1/admin/dead-letters/${letter.id}/replay`, {
        method: 'POST',
        key: ADMIN_KEY,
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    };
    expect(await replay()).toEqual({
      status: 202,
      body: { id: letter.id, replayedTo: 'troupe.signals', replayCount: 1 },
    });
    expect(await replay()).toMatchObject({ status: 202, body: { replayCount: 2 } });
    await waitFor(async () => (await jobsWithSignal('initech-1', INITECH_KEY)).length === 1, {
      description: 'the replayed signal’s job',
    });
    // A later signal proves both replays were consumed before we count.
    await publish({ ...signal, signalId: 'initech-marker' });
    await waitFor(async () => (await jobsWithSignal('initech-marker', INITECH_KEY)).length === 1, {
      description: 'the marker',
    });
    expect(await jobsWithSignal('initech-1', INITECH_KEY)).toHaveLength(1);
    expect(
      (await deadLetters('?stage=intake&code=UNKNOWN_TENANT')).find((l) => l.id === letter.id),
    ).toMatchObject({ replayCount: 2 });
    const missing = await troupe.request('/v1/admin/dead-letters/intake:0:999999/replay', {
      method: 'POST',
      key: ADMIN_KEY,
    });
    expect(missing.status).toBe(404);
  });

  it('given an undelivered webhook in troupe.dlq.delivery, when replayed twice with the CLI, then it is redelivered once', async () => {
    let healthy = false;
    const flaky = await startWebhookReceiver(SECRET, () => (healthy ? 204 : 400));
    try {
      const { body } = await troupe.submit({
        workflow: 'document-summary',
        input: { text: 'Replayed from the dead letters. Once.' },
        webhook: { url: flaky.url },
      });
      await waitFor(async () => (await troupe.job(body.id)).body.status === 'delivery_failed', {
        description: 'the delivery to fail',
      });
      const letter = await waitFor(
        async () => (await deadLetters('?stage=delivery')).find((l) => l.jobId === body.id),
        { description: 'the delivery dead letter' },
      );
      expect(letter).toMatchObject({ originalTopic: 'webhook', code: 'HTTP_400' });
      healthy = true;
      const cli = (...args: string[]) =>
        promisify(execFile)(process.execPath, [join(repoRoot, 'cli/bin/troupe.mjs'), 'dlq', ...args], {
          env: { ...process.env, TROUPE_API_URL: troupe.api, TROUPE_API_KEY: ADMIN_KEY },
        });
      expect((await cli('list', '--stage', 'delivery')).stdout).toContain(letter.id);
      expect((await cli('replay', letter.id)).stdout).toContain(`${letter.id} replayed to redelivery (replay 1)`);
      await waitFor(async () => (await troupe.job(body.id)).body.status === 'delivered', {
        description: 'the redelivery',
      });
      // Replayed again after it was delivered: the same replay, so delivery's inbox skips it (a new
      // redelivery request would re-send a delivered result).
      expect((await cli('replay', letter.id)).stdout).toContain('(replay 2)');
      // Both replays published and consumed by delivery (its committed offsets reach the end), and a
      // dispatcher pass later, the receiver still has the one redelivery.
      await waitFor(() => consumedToTheEnd('troupe-delivery', 'troupe.job.redelivery-requested', 2), {
        description: 'delivery to consume both replays',
      });
      const later = await troupe.submit({
        workflow: 'document-summary',
        input: { text: 'After the replays. It arrives.' },
        webhook: { url: flaky.url },
      });
      await waitFor(async () => (await troupe.job(later.body.id)).body.status === 'delivered');
      expect(flaky.received.filter((r) => r.payload?.data.jobId === body.id).map((r) => r.status)).toEqual([
        400, 204,
      ]);
    } finally {
      await flaky.close();
    }
  });
});
