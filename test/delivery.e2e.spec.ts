import { readTopicUntil, startWebhookReceiver, waitFor } from '@troupe/testing';
import { Webhook } from 'standardwebhooks';
import { SECRET, SERVICES, startTroupe, type TroupeSystem } from './support/troupe-system';

// Delivery semantics end to end: five service processes, a real broker, a real PostgreSQL, real
// HTTP receivers that verify every signature with the independent `standardwebhooks` library.

const FAILING_WORKFLOW = `
id: failing-model
version: 1
description: Names a model whose provider has no API key here (and no fallback), so every job fails in generation.
classification: { kind: rules, defaultLabel: general }
generation: { routes: { default: { model: anthropic/claude-3-5-haiku } } }
output: { schema: { type: object } }
`;
const TOPIC_WORKFLOW = `
id: summary-to-topic
version: 1
description: Summarises, and also publishes every outcome to a result topic.
classification: { kind: rules, defaultLabel: document }
generation: { routes: { default: { model: local/extractive-summary, params: { maxSentences: 2 } } } }
output: { schema: { type: object, required: [summary] } }
delivery: { topic: troupe.results.e2e-summaries }
`;

let troupe: TroupeSystem;

beforeAll(async () => {
  troupe = await startTroupe({
    label: 'delivery',
    // A short horizon, so a Retry-After beyond it is dead-lettered at once.
    env: { TROUPE_WEBHOOK_RETRY_HORIZON_MS: '20000' },
    extraWorkflows: { 'failing-model.v1.yaml': FAILING_WORKFLOW, 'summary-to-topic.v1.yaml': TOPIC_WORKFLOW },
  });
});

afterAll(async () => {
  const codes = await troupe?.stop();
  expect(codes).toEqual(SERVICES.map(() => 0)); // every service shut down cleanly
});

const text = (n: number) => `Receivers fail in many ways. This is case ${n}. Delivery copes with each.`;
const timeline = async (id: string) =>
  (await troupe.job(id)).body.timeline as { type: string; summary: string }[];
const countOf = (entries: { type: string }[], type: string) => entries.filter((e) => e.type === type).length;

describe('webhook retries', () => {
  it('given a receiver failing three times then succeeding, then it sees one success, every attempt with the same webhook-id and a valid signature', async () => {
    let calls = 0;
    const flaky = await startWebhookReceiver(SECRET, () => (++calls <= 3 ? (calls === 2 ? 500 : 503) : 200));
    try {
      const { status, body } = await troupe.submit({
        workflow: 'document-summary',
        input: { text: text(1) },
        webhook: { url: flaky.url },
      });
      expect(status).toBe(202);
      await waitFor(async () => (await troupe.job(body.id)).body.status === 'delivered', {
        description: 'delivery after three failures',
      });
      expect(flaky.received.map((r) => r.status)).toEqual([503, 500, 503, 200]);
      expect(flaky.received.filter((r) => r.status === 200)).toHaveLength(1);
      expect(new Set(flaky.received.map((r) => r.webhookId)).size).toBe(1);
      expect(flaky.received.every((r) => r.verified)).toBe(true);
      // Independently re-verify one delivery with standardwebhooks, from the raw headers.
      const last = flaky.received[3];
      expect(last.headers['webhook-signature']).toMatch(/^v1,/);
      expect(Number(last.headers['webhook-timestamp'])).toBeGreaterThan(Date.now() / 1000 - 300);
      expect(() =>
        new Webhook(SECRET).verify(JSON.stringify(last.payload), last.headers as Record<string, string>),
      ).not.toThrow();
      const entries = await waitFor(
        async () => {
          const t = await timeline(body.id);
          return countOf(t, 'troupe.job.delivery-attempted.v1') === 4 ? t : undefined;
        },
        { description: 'four attempts in the timeline' },
      );
      expect(
        entries.filter((e) => e.type === 'troupe.job.delivery-attempted.v1').map((e) => e.summary),
      ).toEqual([
        expect.stringMatching(/attempt 1 retrying \(HTTP 503/),
        expect.stringMatching(/attempt 2 retrying \(HTTP 500/),
        expect.stringMatching(/attempt 3 retrying \(HTTP 503/),
        expect.stringMatching(/attempt 4 succeeded \(HTTP 200/),
      ]);
    } finally {
      await flaky.close();
    }
  });

  it('given 503 with Retry-After in seconds and 429 with an HTTP date, then the next attempt waits at least that long', async () => {
    let seconds = 0;
    const bySeconds = await startWebhookReceiver(SECRET, () =>
      ++seconds === 1 ? { status: 503, headers: { 'retry-after': '2' } } : 204,
    );
    let dated = 0;
    const byDate = await startWebhookReceiver(SECRET, () =>
      ++dated === 1
        ? { status: 429, headers: { 'retry-after': new Date(Date.now() + 3_000).toUTCString() } }
        : 204,
    );
    try {
      const a = await troupe.submit({
        workflow: 'document-summary',
        input: { text: text(2) },
        webhook: { url: bySeconds.url },
      });
      const b = await troupe.submit({
        workflow: 'document-summary',
        input: { text: text(3) },
        webhook: { url: byDate.url },
      });
      await waitFor(
        async () =>
          (await troupe.job(a.body.id)).body.status === 'delivered' &&
          (await troupe.job(b.body.id)).body.status === 'delivered',
        {
          description: 'both deliveries after Retry-After',
        },
      );
      // Without Retry-After the first retry would come within TROUPE_WEBHOOK_RETRY_BASE_MS (200 ms).
      expect(bySeconds.received[1].receivedAt - bySeconds.received[0].receivedAt).toBeGreaterThanOrEqual(
        1_950,
      );
      // An HTTP date has whole seconds: at least 2 s of the 3 remain.
      expect(byDate.received[1].receivedAt - byDate.received[0].receivedAt).toBeGreaterThanOrEqual(1_950);
      expect(bySeconds.received.map((r) => r.status)).toEqual([503, 204]);
    } finally {
      await bySeconds.close();
      await byDate.close();
    }
  });

  it('given a Retry-After beyond the retry horizon, then the delivery is dead-lettered at once, saying why', async () => {
    const busy = await startWebhookReceiver(SECRET, () => ({
      status: 503,
      headers: { 'retry-after': '3600' },
    }));
    try {
      const { body } = await troupe.submit({
        workflow: 'document-summary',
        input: { text: text(4) },
        webhook: { url: busy.url },
      });
      await waitFor(async () => (await troupe.job(body.id)).body.status === 'delivery_failed', {
        description: 'delivery to give up',
      });
      expect(busy.received).toHaveLength(1);
      const failed = await waitFor(async () =>
        (await timeline(body.id)).find((e) => e.type === 'troupe.job.delivery-failed.v1'),
      );
      expect(failed.summary).toMatch(/Retry-After asks for 3600 s would fall beyond the 20 s retry horizon/);
      const letters = await readTopicUntil('troupe.dlq.delivery', (ms) =>
        ms.some((m) => m.key?.toString() === body.id),
      );
      expect(letters.find((m) => m.key?.toString() === body.id)?.headers?.troupe_dlq_code?.toString()).toBe(
        'HTTP_503',
      );
    } finally {
      await busy.close();
    }
  });
});

describe('410 Gone', () => {
  it('given a receiver answering 410, then its target is disabled and a later job to it is not attempted, and that is recorded', async () => {
    let back = false;
    const gone = await startWebhookReceiver(SECRET, () => (back ? 204 : 410));
    try {
      const first = await troupe.submit({
        workflow: 'document-summary',
        input: { text: text(5) },
        webhook: { url: gone.url },
      });
      await waitFor(async () => (await troupe.job(first.body.id)).body.status === 'delivery_failed', {
        description: 'the 410 to fail the delivery',
      });
      expect(gone.received).toHaveLength(1); // 410 is not retried

      const second = await troupe.submit({
        workflow: 'document-summary',
        input: { text: text(6) },
        webhook: { url: gone.url },
      });
      await waitFor(async () => (await troupe.job(second.body.id)).body.status === 'delivery_failed', {
        description: 'the second job to fail without an attempt',
      });
      expect(gone.received).toHaveLength(1); // nothing sent for the second job
      const entries = await waitFor(async () => {
        const t = await timeline(second.body.id);
        return t.some((e) => e.type === 'troupe.job.delivery-failed.v1') ? t : undefined;
      });
      expect(countOf(entries, 'troupe.job.delivery-attempted.v1')).toBe(0);
      expect(entries.find((e) => e.type === 'troupe.job.delivery-failed.v1')?.summary).toMatch(
        /after 0 attempt\(s\): not attempted: the target is disabled \(HTTP 410 Gone/,
      );
      const firstFailure = (await timeline(first.body.id)).find(
        (e) => e.type === 'troupe.job.delivery-failed.v1',
      );
      expect(firstFailure?.summary).toMatch(/HTTP 410.*\(target disabled\)/);

      // The receiver is back and the tenant asks for the result again: redelivery re-enables the target.
      back = true;
      expect((await troupe.request(`/v1/jobs/${second.body.id}/redeliver`, { method: 'POST' })).status).toBe(
        202,
      );
      await waitFor(async () => (await troupe.job(second.body.id)).body.status === 'delivered', {
        description: 'the redelivery to the re-enabled target',
      });
      expect(gone.received.map((r) => [r.payload?.data.jobId, r.status])).toEqual([
        [first.body.id, 410],
        [second.body.id, 204],
      ]);
    } finally {
      await gone.close();
    }
  });
});

describe('redelivery', () => {
  it('given a dead-lettered delivery, when redelivered through the API after the receiver recovers, then it arrives once more with the same webhook-id', async () => {
    let healthy = false;
    const receiver = await startWebhookReceiver(SECRET, () => (healthy ? 204 : 404));
    try {
      const { body } = await troupe.submit({
        workflow: 'document-summary',
        input: { text: text(7) },
        webhook: { url: receiver.url },
      });
      await waitFor(async () => (await troupe.job(body.id)).body.status === 'delivery_failed', {
        description: 'the 404 to fail the delivery',
      });
      healthy = true;
      const response = await troupe.request(`/v1/jobs/${body.id}/redeliver`, { method: 'POST' });
      expect(response.status).toBe(202);
      await waitFor(async () => (await troupe.job(body.id)).body.status === 'delivered', {
        description: 'the redelivery',
      });
      expect(receiver.received.map((r) => r.status)).toEqual([404, 204]);
      expect(new Set(receiver.received.map((r) => r.webhookId)).size).toBe(1);
      const entries = await waitFor(async () => {
        const t = await timeline(body.id);
        return t.some((e) => e.type === 'troupe.job.delivered.v1') ? t : undefined;
      });
      expect(entries.find((e) => e.type === 'troupe.job.redelivery-requested.v1')?.summary).toMatch(
        /redelivery requested by api:acme/,
      );

      // Delivered jobs can be re-sent too; jobs without a webhook cannot, nor other tenants' jobs.
      expect((await troupe.request(`/v1/jobs/${body.id}/redeliver`, { method: 'POST' })).status).toBe(202);
      await waitFor(() => receiver.received.length === 3, { description: 'the second redelivery' });
      const poll = await troupe.submit({ workflow: 'document-summary', input: { text: text(8) } });
      await waitFor(async () => (await troupe.job(poll.body.id)).body.status === 'delivered');
      const noTarget = await troupe.request(`/v1/jobs/${poll.body.id}/redeliver`, { method: 'POST' });
      expect(noTarget.status).toBe(409);
      expect(((await noTarget.json()) as { error: { code: string } }).error.code).toBe('JOB_HAS_NO_WEBHOOK');
      const missing = await troupe.request(`/v1/jobs/00000000-0000-4000-8000-000000000000/redeliver`, {
        method: 'POST',
      });
      expect(missing.status).toBe(404);
    } finally {
      await receiver.close();
    }
  });
});

describe('failure notifications and result topics', () => {
  it('given a job that fails in generation, then its webhook gets a signed job.failed notification and the job stays failed', async () => {
    const receiver = await startWebhookReceiver(SECRET);
    try {
      const { body } = await troupe.submit({
        workflow: 'failing-model',
        input: { text: 'This cannot be generated.' },
        webhook: { url: receiver.url },
      });
      await waitFor(() => receiver.received.length === 1, { description: 'the failure notification' });
      expect(receiver.received[0]).toMatchObject({
        verified: true,
        payload: {
          type: 'job.failed',
          data: {
            jobId: body.id,
            status: 'failed',
            error: { stage: 'generation', code: 'MODELS_UNAVAILABLE' },
          },
        },
      });
      const entries = await waitFor(async () => {
        const t = await timeline(body.id);
        return t.some((e) => e.type === 'troupe.job.delivered.v1') ? t : undefined;
      });
      expect(entries.find((e) => e.type === 'troupe.job.delivered.v1')?.summary).toMatch(
        /failure notification delivered/,
      );
      // Topics reach the read model independently: job.failed may land after the notification's event.
      await waitFor(async () => (await troupe.job(body.id)).body.status === 'failed', {
        description: 'the failed status',
      });
      expect((await troupe.job(body.id)).body).toMatchObject({
        status: 'failed',
        outcome: 'failed',
        errors: [{ code: 'MODELS_UNAVAILABLE' }],
      });
    } finally {
      await receiver.close();
    }
  });

  it('given a workflow with a result topic, then each outcome is published there with the CloudEvents envelope', async () => {
    const { body } = await troupe.submit({
      workflow: 'summary-to-topic',
      input: { text: 'Results go to Kafka too. Other systems consume them.' },
    });
    // Delivery creates the topic (the broker auto-creates nothing) before it publishes the first result.
    const entries = await waitFor(async () => {
      const t = await timeline(body.id);
      return t.some((e) => e.type === 'troupe.job.delivered.v1') ? t : undefined;
    });
    const messages = await readTopicUntil('troupe.results.e2e-summaries', (ms) =>
      ms.some((m) => m.key?.toString() === body.id),
    );
    const message = messages.find((m) => m.key?.toString() === body.id)!;
    expect(message.headers?.ce_type?.toString()).toBe('troupe.job.result.v1');
    expect(message.headers?.ce_subject?.toString()).toBe(body.id);
    expect(message.headers?.ce_tenantid?.toString()).toBe('acme');
    expect(message.headers?.ce_specversion?.toString()).toBe('1.0');
    expect(JSON.parse(message.value!.toString())).toMatchObject({
      jobId: body.id,
      tenantId: 'acme',
      type: 'job.completed',
      data: { status: 'validated', output: { summary: expect.any(String) } },
    });
    expect(entries.find((e) => e.type === 'troupe.job.delivered.v1')?.summary).toBe(
      'published to troupe.results.e2e-summaries',
    );
    await waitFor(async () => (await troupe.job(body.id)).body.status === 'delivered', {
      description: 'the job to count as delivered',
    });
  });
});

describe('SSRF protection at job creation', () => {
  it('given callback URLs that reach inside the network in any spelling, then each is refused with 422 and a machine-readable code', async () => {
    const cases: [string, string][] = [
      ['http://127.0.0.2:4000/hook', 'WEBHOOK_URL_FORBIDDEN'], // loopback, not the allowlisted 127.0.0.1
      ['http://2130706434/hook', 'WEBHOOK_URL_FORBIDDEN'], // 127.0.0.2 in decimal
      ['http://0x7f.0.0.2/hook', 'WEBHOOK_URL_FORBIDDEN'], // hex
      ['http://0177.0.0.2/hook', 'WEBHOOK_URL_FORBIDDEN'], // octal
      ['http://[::1]/hook', 'WEBHOOK_URL_FORBIDDEN'],
      ['http://[::ffff:10.0.0.1]/hook', 'WEBHOOK_URL_FORBIDDEN'], // IPv4-mapped IPv6
      ['http://10.1.2.3/hook', 'WEBHOOK_URL_FORBIDDEN'],
      ['http://192.168.1.10/hook', 'WEBHOOK_URL_FORBIDDEN'],
      ['http://169.254.169.254/latest/meta-data/', 'WEBHOOK_URL_FORBIDDEN'],
      ['http://0xa9fea9fe/latest/meta-data/', 'WEBHOOK_URL_FORBIDDEN'],
      ['http://[fe80::1]/hook', 'WEBHOOK_URL_FORBIDDEN'],
      ['http://0.0.0.0:3000/hook', 'WEBHOOK_URL_FORBIDDEN'],
      ['http://localhost:3000/hook', 'WEBHOOK_URL_FORBIDDEN'],
      ['ftp://example.com/hook', 'WEBHOOK_URL_FORBIDDEN'],
      ['http://no-such-host.invalid/hook', 'WEBHOOK_HOST_UNRESOLVABLE'],
    ];
    for (const [url, code] of cases) {
      const { status, body } = await troupe.submit({
        workflow: 'document-summary',
        input: { text: 'hello' },
        webhook: { url },
      });
      expect({ url, status, code: body.error?.code }).toEqual({ url, status: 422, code });
      expect(body.error.details).toEqual([expect.objectContaining({ path: 'webhook.url' })]);
    }
    const list = (await (await troupe.request('/v1/jobs?limit=100')).json()) as { items: unknown[] };
    const before = list.items.length;
    expect(
      (
        await troupe.submit({
          workflow: 'document-summary',
          input: { text: 'hello' },
          webhook: { url: 'http://169.254.169.254/' },
        })
      ).status,
    ).toBe(422);
    const after = ((await (await troupe.request('/v1/jobs?limit=100')).json()) as { items: unknown[] }).items
      .length;
    expect(after).toBe(before); // a refused job is not created
  });

  it('given the OpenAPI document, then it describes the redeliver and dead-letter routes', async () => {
    const doc = (await (await fetch(`${troupe.api}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/jobs/{id}/redeliver',
        '/v1/admin/dead-letters',
        '/v1/admin/dead-letters/{id}/replay',
      ]),
    );
  });
});
