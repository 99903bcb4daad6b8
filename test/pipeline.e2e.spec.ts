import { Client } from 'pg';
import {
  createTestDatabase,
  freePort,
  readTopicUntil,
  resetTroupeTopics,
  ServiceProcess,
  startFakeModelProvider,
  startOtlpReceiver,
  startTcpProxy,
  startWebhookReceiver,
  waitFor,
  type CollectedSpan,
} from '@troupe/testing';

// The whole system: five service processes from their build output, a real Kafka broker, a real
// PostgreSQL, real HTTP in and out, an OTLP receiver standing in for Jaeger.

const SECRET = 'whsec_' + Buffer.from('troupe-e2e-webhook-secret-0123456789').toString('base64');
const ACME_KEY = 'acme-e2e-key-0123456789';
const GLOBEX_KEY = 'globex-e2e-key-0123456789';
const SERVICES = ['intake', 'classification', 'generation', 'validation', 'delivery'] as const;
// Provider keys: sent to the fake provider, and never to appear in a log, an event or a span.
const OPENAI_KEY = 'sk-e2e-OPENAI-5b1e9d2c7a4f';
const ANTHROPIC_KEY = 'sk-ant-e2e-ANTHROPIC-8c3f0a6d';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
let models: Awaited<ReturnType<typeof startFakeModelProvider>>;
const services = new Map<string, ServiceProcess>();
let api: string;
let baseEnv: Record<string, string>;

beforeAll(async () => {
  await resetTroupeTopics();
  db = await createTestDatabase('e2e');
  receiver = await startWebhookReceiver(SECRET);
  otlp = await startOtlpReceiver();
  // The example workflows' remote models point at the fake: Anthropic is down (document-summary
  // falls back to the local summary), OpenAI answers (support-ticket-reply's cascade escalates to it).
  models = await startFakeModelProvider((request) =>
    request.format === 'anthropic'
      ? { status: 503, errorMessage: 'overloaded' }
      : {
          content: { reply: 'Hello,\n\nThank you for your message. A member of our team will answer your question today.', label: 'general', tone: 'friendly', language: 'en' },
          confidence: 0.93,
          usage: { inputTokens: 1000, outputTokens: 200 },
        },
  );
  const env = (baseEnv = {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    TROUPE_API_KEYS: `acme:submitter:${ACME_KEY},globex:admin:${GLOBEX_KEY}`,
    TROUPE_WEBHOOK_SECRETS: `*=${SECRET}`,
    // The test receivers listen on loopback, which the SSRF guard refuses unless allowlisted.
    TROUPE_EGRESS_ALLOWLIST: '127.0.0.1',
    TROUPE_WEBHOOK_RETRY_BASE_MS: '200',
    TROUPE_WEBHOOK_MAX_ATTEMPTS: '4',
    TROUPE_DELIVERY_POLL_MS: '100',
    TROUPE_LOG_LEVEL: 'warn',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_TRACES_EXPORTER: 'otlp',
    TROUPE_OPENAI_BASE_URL: models.openaiBaseUrl,
    TROUPE_OPENAI_API_KEY: OPENAI_KEY,
    TROUPE_ANTHROPIC_BASE_URL: models.anthropicBaseUrl,
    TROUPE_ANTHROPIC_API_KEY: ANTHROPIC_KEY,
    TROUPE_MODEL_RETRY_BASE_MS: '20',
  });
  // Intake first: it creates the topics; the others join after.
  for (const name of SERVICES) services.set(name, new ServiceProcess(name, await freePort(), env));
  await services.get('intake')!.start();
  await Promise.all(SERVICES.slice(1).map((name) => services.get(name)!.start()));
  api = services.get('intake')!.url;
});

afterAll(async () => {
  const codes = await Promise.all([...services.values()].map((s) => s.stop()));
  await receiver?.close();
  await otlp?.close();
  await models?.close();
  await db?.drop();
  // Every service shut down cleanly on SIGTERM (drained, committed, closed).
  expect(codes).toEqual(SERVICES.map(() => 0));
});

function request(path: string, init: RequestInit & { key?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.key !== '') headers.set('authorization', `Bearer ${init.key ?? ACME_KEY}`);
  if (init.body) headers.set('content-type', headers.get('content-type') ?? 'application/json');
  return fetch(`${api}${path}`, { ...init, headers });
}

async function submit(body: unknown, options: { key?: string; idempotencyKey?: string } = {}) {
  const response = await request('/v1/jobs', {
    method: 'POST',
    body: JSON.stringify(body),
    key: options.key,
    headers: options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : undefined,
  });
  return { status: response.status, body: (await response.json()) as Record<string, any>, headers: response.headers };
}

async function job(id: string, key = ACME_KEY) {
  const response = await request(`/v1/jobs/${id}`, { key });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const TICKETS = [
  'I was charged twice for my subscription this month, please refund the extra payment.',
  'The app shows an error and crashes every time I try to log in since the last update.',
  'I forgot my password and cannot sign in to my account anymore.',
  'This is unacceptable, the worst service I have ever had. I am very disappointed.',
  'Bonjour, je voudrais un remboursement de ma facture du mois dernier, merci.',
];

describe('a job through the pipeline', () => {
  it('given 50 jobs over HTTP, when the pipeline runs, then all are delivered and the receiver sees each exactly once, signed', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const { status, body } = await submit({
        workflow: i % 5 === 4 ? 'document-summary' : 'support-ticket-reply',
        input: { text: i % 5 === 4 ? `${TICKETS[0]} The quarterly report shows revenue growth. Analysis follows in the next section. Item ${i}.` : TICKETS[i % 4] },
        webhook: { url: receiver.url },
        metadata: { n: String(i) },
      });
      expect(status).toBe(202);
      ids.push(body.id);
    }
    await waitFor(
      async () => {
        const statuses = await Promise.all(ids.map(async (id) => (await job(id)).body.status));
        return statuses.every((s) => s === 'delivered');
      },
      { timeoutMs: 120_000, intervalMs: 500, description: '50 jobs to be delivered' },
    );

    const forOurJobs = receiver.received.filter((r) => ids.includes(r.payload?.data.jobId ?? ''));
    expect(forOurJobs.every((r) => r.verified)).toBe(true);
    expect(forOurJobs.map((r) => r.payload!.data.jobId).sort()).toEqual([...ids].sort()); // each exactly once
    expect(new Set(forOurJobs.map((r) => r.webhookId)).size).toBe(50);
    expect(forOurJobs.every((r) => r.payload!.type === 'job.completed')).toBe(true);

    // The read model applies each topic's events independently: wait until the whole timeline is in.
    const first = await waitFor(async () => {
      const found = await job(ids[0]);
      return found.body.timeline.length === 7 ? found : undefined;
    }, { description: 'the complete timeline' });
    expect(first.body).toMatchObject({ status: 'delivered', outcome: 'succeeded', workflow: { id: 'support-ticket-reply', version: 1 } });
    expect(first.body.result).toMatchObject({ label: 'billing', tone: expect.any(String) });
    expect(first.body.timeline.map((e: { type: string }) => e.type)).toEqual([
      'troupe.job.requested.v1',
      'troupe.job.classified.v1',
      'troupe.job.generated.v1',
      // The job's model calls, committed with job.generated (a local model's calls cost nothing, but are recorded).
      'troupe.job.cost-recorded.v1',
      'troupe.job.validated.v1',
      'troupe.job.delivery-attempted.v1',
      'troupe.job.delivered.v1',
    ]);
    const summary = await job(ids[4]);
    expect(summary.body.result).toMatchObject({ summary: expect.any(String), keyPoints: expect.arrayContaining([expect.any(String)]) });
  });

  it('given one job, when it completes, then spans from all five services form one trace with an unbroken parent chain', async () => {
    const { body } = await submit({ workflow: 'support-ticket-reply', input: { text: TICKETS[1] }, webhook: { url: receiver.url } });
    await waitFor(async () => (await job(body.id)).body.status === 'delivered', { description: 'the job to be delivered' });

    const spansOfJob = (): CollectedSpan[] => {
      const root = otlp.spans.find((s) => s.service === 'troupe-intake' && s.kind === 2 && String(s.attributes['url.path'] ?? s.attributes['http.target'] ?? '').includes('/v1/jobs') && String(s.attributes['http.request.method'] ?? s.attributes['http.method']) === 'POST' && otlp.spans.some((c) => c.traceId === s.traceId && c.attributes['troupe.job.id'] === body.id));
      return root ? otlp.spans.filter((s) => s.traceId === root.traceId) : [];
    };
    // Each service exports its spans in batches of its own: wait until every hop's spans are in
    // (the webhook's, and each stage's process span with the send span that parents it).
    const HOPS = ['troupe.job.requested', 'troupe.job.classified', 'troupe.job.generated', 'troupe.job.validated'];
    const spans = await waitFor(
      () => {
        const found = spansOfJob();
        // Delivery's last publishes may come in its batch after the webhook's: intake's process spans
        // of them (already exported) would otherwise look orphaned.
        const complete =
          found.some((s) => s.service === 'troupe-delivery' && s.name === 'POST webhook') &&
          ['troupe.job.delivery-attempted', 'troupe.job.delivered'].every((topic) => found.some((s) => s.name === `send ${topic}`)) &&
          HOPS.every((topic) => found.some((s) => s.name === `process ${topic}`) && found.some((s) => s.name === `send ${topic}`));
        return complete ? found : undefined;
      },
      { timeoutMs: 30_000, description: 'the trace of the job, every hop through the webhook' },
    );

    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(SERVICES.map((s) => `troupe-${s}`)));
    const ids = new Set(spans.map((s) => s.spanId));
    const roots = spans.filter((s) => !s.parentSpanId);
    expect(roots).toHaveLength(1); // the HTTP request
    expect(spans.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId))).toEqual([]); // no broken link
    // Each Kafka hop: a send span (outbox relay) parenting the next stage's process span.
    for (const topic of HOPS) {
      const consumed = spans.find((s) => s.name === `process ${topic}` && s.attributes['troupe.job.id'] === body.id);
      expect(consumed).toBeDefined();
      const parent = spans.find((s) => s.spanId === consumed!.parentSpanId);
      expect(parent?.name).toBe(`send ${topic}`);
    }
  });
});

describe('the model layer in the pipeline', () => {
  const generatedEvent = async (jobId: string) => {
    const messages = await readTopicUntil('troupe.job.generated', (ms) => ms.some((m) => m.key?.toString() === jobId));
    return JSON.parse(messages.find((m) => m.key?.toString() === jobId)!.value!.toString()) as Record<string, any>;
  };

  it('given Anthropic down, when a document is summarised, then generation falls back to the local model and the event says why', async () => {
    const { body } = await submit({ workflow: 'document-summary', input: { text: 'The quarterly report shows revenue growth. Costs fell. Analysis follows.' }, webhook: { url: receiver.url } });
    await waitFor(async () => (await job(body.id)).body.status === 'delivered', { description: 'the summary to be delivered' });
    const { generation } = await generatedEvent(body.id);
    expect(generation.model).toBe('local/extractive-summary');
    expect(generation.strategy).toBe('fallback');
    // Either the 503s of this job, or the circuit they (and earlier jobs) opened.
    expect(generation.attempts[0]).toMatchObject({ model: 'anthropic/claude-3-5-haiku', outcome: 'failed', errorKind: expect.stringMatching(/^(UNAVAILABLE|CIRCUIT_OPEN)$/) });
    expect(generation.attempts.at(-1)).toMatchObject({ model: 'local/extractive-summary', outcome: 'succeeded' });
    expect(generation.decisions[0]).toMatchObject({ action: 'fallback', model: 'local/extractive-summary', reason: expect.stringMatching(/anthropic\/claude-3-5-haiku failed/) });
    expect(models.requests.some((r) => r.format === 'anthropic' && r.model === 'claude-3-5-haiku-latest')).toBe(true);
    // The job's timeline explains why the local model was used.
    const entry = await waitFor(async () => ((await job(body.id)).body.timeline as { type: string; summary: string }[]).find((e) => e.type === 'troupe.job.generated.v1'), {
      description: 'the generated entry in the timeline',
    });
    expect(entry.summary).toMatch(/generated by local\/extractive-summary .*fallback local\/extractive-summary: anthropic\/claude-3-5-haiku failed/);
    // Generation's own store has one row per attempt, the used one marked.
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      const { rows } = await pg.query(`SELECT model, outcome, chosen FROM generation.generations WHERE job_id = $1 ORDER BY id`, [body.id]);
      expect(rows.length).toBe(generation.attempts.length);
      expect(rows.at(-1)).toEqual({ model: 'local/extractive-summary', outcome: 'succeeded', chosen: true });
      expect(rows.filter((r) => r.chosen)).toHaveLength(1);
    } finally {
      await pg.end();
    }
  });

  it('given a ticket the classifier is unsure of, when generated, then the cascade escalates to the LLM and the job shows its exact cost', async () => {
    const { body } = await submit({ workflow: 'support-ticket-reply', input: { text: 'Hello, what are your opening hours on public holidays?' }, webhook: { url: receiver.url } });
    const done = await waitFor(async () => {
      const found = await job(body.id);
      // The read model applies each topic independently: wait for the result and the cost too.
      return found.body.status === 'delivered' && found.body.result && found.body.costUsd !== undefined ? found : undefined;
    }, { description: 'the escalated reply to be delivered' });
    const { generation, classification } = await generatedEvent(body.id);
    expect(classification.confidence).toBeLessThan(0.5);
    expect(generation).toMatchObject({ model: 'openai/gpt-4o-mini', strategy: 'cascade', confidence: 0.93, usage: { inputTokens: 1000, outputTokens: 200 } });
    expect(generation.decisions[0]).toMatchObject({ action: 'skipped', model: 'local/templated-reply' });
    expect(generation.output).not.toHaveProperty('confidence'); // routing metadata, not part of the result
    expect(done.body.result).toMatchObject({ tone: 'friendly', language: 'en' });
    expect(done.body.costUsd).toBe(0.00027); // 1000 * $0.15/M + 200 * $0.60/M
    const sent = models.requests.find((r) => r.format === 'openai' && JSON.parse(r.body.messages[1].content).input.includes('opening hours'))!;
    expect(sent.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(sent.body.messages[0].content).not.toContain('opening hours'); // user input only in the data message
  });

  it('given provider keys in the environment, when jobs ran, then no key appears in any log, event or span', async () => {
    const events = await readTopicUntil('troupe.job.generated', (ms) => ms.length > 0);
    const everything = [
      ...[...services.values()].map((s) => s.logs(400)),
      JSON.stringify(otlp.spans),
      ...events.map((m) => `${m.value?.toString()} ${JSON.stringify(m.headers)}`),
    ].join('\n');
    expect(otlp.spans.some((s) => s.attributes['gen_ai.request.model'] === 'gpt-4o-mini')).toBe(true);
    for (const key of [OPENAI_KEY, ANTHROPIC_KEY]) expect(everything).not.toContain(key);
  });
});

describe('webhook delivery', () => {
  const timelineTypes = async (id: string) => (await job(id)).body.timeline.map((e: { type: string }) => e.type) as string[];

  it('given a receiver failing twice with 503, when delivering, then the third attempt succeeds with the same webhook-id and every attempt is in the timeline', async () => {
    let calls = 0;
    const flaky = await startWebhookReceiver(SECRET, () => (++calls <= 2 ? 503 : 200));
    try {
      const { body } = await submit({ workflow: 'document-summary', input: { text: 'Flaky receivers happen. They recover.' }, webhook: { url: flaky.url } });
      await waitFor(async () => (await job(body.id)).body.status === 'delivered', { description: 'delivery after retries' });
      expect(flaky.received.map((r) => r.status)).toEqual([503, 503, 200]);
      expect(new Set(flaky.received.map((r) => r.webhookId)).size).toBe(1);
      expect(flaky.received.every((r) => r.verified)).toBe(true);
      await waitFor(async () => (await timelineTypes(body.id)).filter((t) => t === 'troupe.job.delivery-attempted.v1').length === 3, {
        description: 'three attempts in the timeline',
      });
    } finally {
      await flaky.close();
    }
  });

  it('given a receiver that always fails, when the attempts run out, then the job is delivery_failed and the payload is dead-lettered', async () => {
    const down = await startWebhookReceiver(SECRET, () => 500);
    const gone = await startWebhookReceiver(SECRET, () => 404);
    try {
      const exhausted = await submit({ workflow: 'document-summary', input: { text: 'Nobody is listening. Still we try.' }, webhook: { url: down.url } });
      const permanent = await submit({ workflow: 'document-summary', input: { text: 'Wrong address. No retry helps.' }, webhook: { url: gone.url } });
      await waitFor(
        async () => (await job(exhausted.body.id)).body.status === 'delivery_failed' && (await job(permanent.body.id)).body.status === 'delivery_failed',
        { timeoutMs: 60_000, description: 'both deliveries to fail' },
      );
      expect(down.received).toHaveLength(4); // TROUPE_WEBHOOK_MAX_ATTEMPTS
      expect(gone.received).toHaveLength(1); // a 404 is not retried
      // Events of different topics reach the read model independently: wait for all four attempts.
      const timeline = await waitFor(async () => {
        const entries = (await job(exhausted.body.id)).body.timeline as { type: string; summary: string }[];
        return entries.filter((e) => e.type === 'troupe.job.delivery-attempted.v1').length === 4 ? entries : undefined;
      }, { description: 'four attempts in the timeline' });
      expect(timeline.find((e) => e.type === 'troupe.job.delivery-failed.v1')?.summary).toMatch(/after 4 attempt/);
      const letters = await readTopicUntil('troupe.dlq.delivery', (ms) =>
        [exhausted.body.id, permanent.body.id].every((id) => ms.some((m) => m.key?.toString() === id)),
      );
      const letter = letters.find((m) => m.key?.toString() === permanent.body.id)!;
      expect(letter.headers?.troupe_dlq_code?.toString()).toBe('HTTP_404');
      expect(JSON.parse(letter.value!.toString())).toMatchObject({ type: 'job.completed', data: { jobId: permanent.body.id } });
      expect(gone.received).toHaveLength(1); // still: a failed delivery is not tried again
    } finally {
      await down.close();
      await gone.close();
    }
  });
});

describe('the public API', () => {
  it('given a workflow with a deadline, when a job is requested, then every stage sees the same deadline in its events', async () => {
    const before = Date.now();
    const { body } = await submit({ workflow: 'support-ticket-reply', input: { text: TICKETS[0] } });
    const messages = await readTopicUntil('troupe.job.generated', (ms) => ms.some((m) => m.key?.toString() === body.id));
    const generated = JSON.parse(messages.find((m) => m.key?.toString() === body.id)!.value!.toString());
    const deadline = Date.parse(generated.deadlineAt); // set by intake from deadlineSeconds: 300
    expect(deadline).toBeGreaterThanOrEqual(before + 300_000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 300_000);
  });

  it('given bad input, when submitted, then each gets a 4xx with a machine-readable code and never a 500', async () => {
    const cases: [string, RequestInit & { key?: string }, number, string][] = [
      ['wrong types', { method: 'POST', body: JSON.stringify({ workflow: 42, input: { text: 7 } }) }, 400, 'VALIDATION_FAILED'],
      ['missing fields', { method: 'POST', body: JSON.stringify({}) }, 400, 'VALIDATION_FAILED'],
      ['unknown field', { method: 'POST', body: JSON.stringify({ workflow: 'document-summary', input: { text: 'x' }, extra: 1 }) }, 400, 'VALIDATION_FAILED'],
      ['malformed JSON', { method: 'POST', body: '{"workflow":' }, 400, 'MALFORMED_JSON'],
      ['oversized body', { method: 'POST', body: JSON.stringify({ workflow: 'document-summary', input: { text: 'a'.repeat(300 * 1024) } }) }, 413, 'PAYLOAD_TOO_LARGE'],
      ['unknown workflow', { method: 'POST', body: JSON.stringify({ workflow: 'no-such-flow', input: { text: 'hello' } }) }, 422, 'UNKNOWN_WORKFLOW'],
      ['unknown version', { method: 'POST', body: JSON.stringify({ workflow: 'document-summary', workflowVersion: 99, input: { text: 'hello' } }) }, 422, 'UNKNOWN_WORKFLOW_VERSION'],
      ['bad webhook URL', { method: 'POST', body: JSON.stringify({ workflow: 'document-summary', input: { text: 'hello' }, webhook: { url: 'not a url' } }) }, 400, 'VALIDATION_FAILED'],
      ['no API key', { method: 'POST', key: '', body: JSON.stringify({ workflow: 'document-summary', input: { text: 'hello' } }) }, 401, 'UNAUTHENTICATED'],
      ['wrong API key', { method: 'GET', key: 'not-a-real-key-000000' }, 401, 'UNAUTHENTICATED'],
      ['bad cursor', { method: 'GET' }, 400, 'INVALID_CURSOR'],
    ];
    for (const [name, init, status, code] of cases) {
      const path = name === 'bad cursor' ? '/v1/jobs?cursor=garbage' : '/v1/jobs';
      const response = await request(path, init);
      const body = (await response.json()) as { error?: { code?: string } };
      expect({ name, status: response.status, code: body.error?.code }).toEqual({ name, status, code });
    }
  });

  it('given an Idempotency-Key, when the same request repeats, then it returns the same job; with another body, a 422', async () => {
    const key = `order-${Date.now()}`;
    const body = { workflow: 'document-summary', input: { text: 'The agreement binds both parties. It ends in May.' } };
    const first = await submit(body, { idempotencyKey: key });
    const again = await submit({ input: body.input, workflow: body.workflow }, { idempotencyKey: key }); // key order differs
    const other = await submit({ ...body, input: { text: 'something else' } }, { idempotencyKey: key });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('given two tenants, when one asks for the other’s job, then it is a 404 and lists show only their own jobs', async () => {
    const { body } = await submit({ workflow: 'document-summary', input: { text: 'Private to acme. Nobody else may read it.' } });
    expect((await job(body.id, GLOBEX_KEY)).status).toBe(404);
    expect((await job(body.id, GLOBEX_KEY)).body.error.code).toBe('JOB_NOT_FOUND');
    expect((await job(body.id)).status).toBe(200);
    const globexList = (await (await request('/v1/jobs?limit=100', { key: GLOBEX_KEY })).json()) as { items: { id: string }[] };
    expect(globexList.items.map((j) => j.id)).not.toContain(body.id);
  });

  it('given many jobs, when listed page by page, then each job appears once, newest first', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const response = await request(`/v1/jobs?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      const page = (await response.json()) as { items: { id: string; createdAt: string }[]; nextCursor: string | null };
      seen.push(...page.items.map((j) => j.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.length).toBeGreaterThanOrEqual(52);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('given the probes and the docs, when fetched, then health needs no key and the OpenAPI document lists the job routes', async () => {
    expect((await fetch(`${api}/health`)).status).toBe(200);
    expect((await fetch(`${api}/ready`)).status).toBe(200);
    const doc = (await (await fetch(`${api}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/jobs', '/v1/jobs/{id}']));
    expect((await fetch(`${api}/metrics`)).status).toBe(401);
  });

  it('given the jobs above, when each service is scraped, then the operator’s metrics are there: lag from the broker, HTTP by route, end-to-end time, webhooks, dead letters, review queue, GenAI', async () => {
    const scrape = async (service: string) => {
      const headers = service === 'intake' ? { authorization: `Bearer ${GLOBEX_KEY}` } : undefined;
      return (await (await fetch(`${services.get(service)!.url}/metrics`, { headers })).text()).split('\n');
    };
    /** The value of the first series of `name` whose labels include every one of `labels`. */
    const value = (lines: string[], name: string, ...labels: string[]) => {
      const line = lines.find((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    // The dead letters reach intake's table through the dead-letter topic: wait for them.
    const intake = await waitFor(async () => {
      const lines = await scrape('intake');
      return value(lines, 'troupe_dead_letters', 'stage="delivery"', 'code="HTTP_404"') === undefined ? undefined : lines;
    }, { description: "the delivery letters in intake's table" });
    expect(value(intake, 'troupe_http_requests_total', 'method="POST"', 'route="/v1/jobs"', 'status="202"')).toBeGreaterThanOrEqual(50);
    expect(value(intake, 'troupe_http_requests_total', 'route="/v1/jobs/:id"', 'status="404"')).toBeGreaterThanOrEqual(1); // another tenant's job
    expect(value(intake, 'troupe_http_request_duration_seconds_count', 'route="/v1/jobs"')).toBeGreaterThanOrEqual(50);
    expect(value(intake, 'troupe_job_e2e_seconds_count', 'workflow="support-ticket-reply"', 'outcome="delivered"')).toBeGreaterThanOrEqual(10);
    expect(value(intake, 'troupe_job_e2e_seconds_count', 'outcome="delivery_failed"')).toBeGreaterThanOrEqual(2);
    // Letters, not attempts: the two failed deliveries above are two letters.
    expect(value(intake, 'troupe_dead_letters', 'stage="delivery"', 'code="HTTP_404"')).toBe(1);
    expect(value(intake, 'troupe_consumer_lag', 'consumer="troupe-intake"')).toEqual(expect.any(Number));

    const delivery = await scrape('delivery');
    expect(value(delivery, 'troupe_webhook_attempts_total', 'outcome="delivered"', 'code="none"')).toBeGreaterThanOrEqual(50);
    expect(value(delivery, 'troupe_webhook_attempts_total', 'outcome="retrying"', 'code="HTTP_500"')).toBeGreaterThanOrEqual(3);
    // Counted once recorded: the counter agrees with delivery's own table of attempts.
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      const { rows } = await pg.query(
        `SELECT d.job_id, d.url, a.attempt, a.status_code, a.attempted_at FROM delivery.delivery_attempts a
           JOIN delivery.deliveries d ON d.id = a.delivery_id WHERE a.status_code = 404 ORDER BY a.id`,
      );
      expect({ counted: value(delivery, 'troupe_webhook_attempts_total', 'outcome="failed"', 'code="HTTP_404"'), rows }).toEqual({
        counted: 1,
        rows: [expect.objectContaining({ status_code: 404, attempt: 1 })],
      });
    } finally {
      await pg.end();
    }
    expect(value(delivery, 'troupe_consumer_lag_sampled_timestamp_seconds', 'consumer="troupe-delivery"')).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(value(delivery, 'troupe_consumer_oldest_unprocessed_seconds', 'consumer="troupe-delivery"')).toEqual(expect.any(Number));

    const generation = await scrape('generation');
    expect(value(generation, 'gen_ai_client_operation_duration_seconds_count', 'gen_ai_operation_name="chat"')).toBeGreaterThanOrEqual(1);
    expect(value(generation, 'gen_ai_client_token_usage_count', 'gen_ai_token_type="output"')).toBeGreaterThanOrEqual(1);

    expect(await scrape('validation')).toContain('# TYPE troupe_review_queue_depth gauge');
  });
});

describe('operations', () => {
  it('given a stage stopped with SIGTERM while jobs arrive, when it restarts, then it picks up where it stopped', async () => {
    const generation = services.get('generation')!;
    expect(await generation.stop()).toBe(0); // drained, committed and closed cleanly
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { body } = await submit({ workflow: 'support-ticket-reply', input: { text: TICKETS[i % 4] }, webhook: { url: receiver.url } });
      ids.push(body.id);
    }
    // Without generation, the jobs stop after classification.
    await waitFor(async () => (await Promise.all(ids.map(async (id) => (await job(id)).body.status))).every((s) => s === 'classified'), {
      description: 'jobs to wait at classified',
    });
    await generation.start();
    await waitFor(async () => (await Promise.all(ids.map(async (id) => (await job(id)).body.status))).every((s) => s === 'delivered'), {
      timeoutMs: 60_000,
      description: 'jobs to be delivered after the restart',
    });
    const deliveries = receiver.received.filter((r) => ids.includes(r.payload?.data.jobId ?? ''));
    expect(deliveries).toHaveLength(5);
  });

  it('given PostgreSQL unreachable for a service, when probed, then it is not ready, the API answers 503 DEPENDENCY_UNAVAILABLE with Retry-After, and both recover once it returns', async () => {
    const proxy = await startTcpProxy(Number(new URL(db.url).port || 5432));
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    const validation2 = new ServiceProcess('validation', await freePort(), { ...baseEnv, DATABASE_URL: viaProxy.toString() });
    const intake2 = new ServiceProcess('intake', await freePort(), { ...baseEnv, DATABASE_URL: viaProxy.toString() });
    const viaIntake2 = (path: string, init: RequestInit = {}) =>
      fetch(`${intake2.url}${path}`, { ...init, headers: { authorization: `Bearer ${ACME_KEY}`, 'content-type': 'application/json', ...init.headers } });
    const newJob = () => viaIntake2('/v1/jobs', { method: 'POST', body: JSON.stringify({ workflow: 'support-ticket-reply', input: { text: TICKETS[0] } }) });
    try {
      await Promise.all([validation2.start(), intake2.start()]);
      const before = await newJob();
      expect(before.status).toBe(202);
      const { id } = (await before.json()) as { id: string };
      proxy.cut();
      // Every route that needs the database: a 503 with a code and Retry-After, never a 500.
      for (const attempt of [() => newJob(), () => viaIntake2(`/v1/jobs/${id}`), () => viaIntake2('/v1/jobs?limit=5')]) {
        const response = await attempt();
        expect({ status: response.status, retryAfter: response.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: '5' });
        expect(await response.json()).toMatchObject({ error: { code: 'DEPENDENCY_UNAVAILABLE' } });
      }
      const notReady = await waitFor(
        async () => {
          const response = await fetch(`${validation2.url}/ready`);
          return response.status === 503 ? ((await response.json()) as { problems: string[] }) : undefined;
        },
        { description: 'readiness to fail' },
      );
      expect(notReady.problems.join(' ')).toMatch(/postgres/);
      expect((await fetch(`${validation2.url}/health`)).status).toBe(200); // alive, just not ready
      proxy.restore();
      await waitFor(async () => (await fetch(`${validation2.url}/ready`)).status === 200, { description: 'readiness to return' });
      await waitFor(async () => (await newJob()).status === 202, { description: 'the API to accept jobs again' });
    } finally {
      proxy.restore();
      expect(await intake2.stop()).toBe(0);
      expect(await validation2.stop()).toBe(0);
      await proxy.close();
    }
  });
});
