import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestDatabase, freePort, repoRoot, resetTroupeTopics, ServiceProcess, startOtlpReceiver, waitFor } from '@troupe/testing';
import { stringify } from 'yaml';

// Quality gates, the repair loop and human review through the whole system: five service processes
// from their build output, a real Kafka broker, a real PostgreSQL, real HTTP.

const SUBMITTER = 'acme-submitter-key-0123456789';
const REVIEWER = 'acme-reviewer-key-0123456789';
const ADMIN = 'acme-admin-key-0123456789';
const OTHER_TENANT_REVIEWER = 'globex-reviewer-key-0123456789';
const SERVICES = ['intake', 'classification', 'generation', 'validation', 'delivery'] as const;

/** A support-ticket workflow variant for one scenario (the shipped workflows are loaded too). */
const ticketWorkflow = (id: string, extra: Record<string, unknown>, schema?: Record<string, unknown>) => ({
  id,
  version: 1,
  classification: { kind: 'rules', defaultLabel: 'general', rules: [{ label: 'billing', keywords: ['invoice', 'refund', 'charged'] }] },
  generation: { routes: { default: { model: 'local/templated-reply', instructions: 'Draft a short, polite support reply.' } } },
  output: {
    schema: schema ?? {
      type: 'object',
      required: ['reply', 'label', 'tone', 'language'],
      properties: { reply: { type: 'string', minLength: 20 }, label: { type: 'string' }, tone: { type: 'string' }, language: { type: 'string' } },
    },
  },
  ...extra,
});

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
let workflowsDir: string;
const services = new Map<string, ServiceProcess>();
let api: string;

beforeAll(async () => {
  await resetTroupeTopics();
  db = await createTestDatabase('review');
  otlp = await startOtlpReceiver();
  workflowsDir = mkdtempSync(join(tmpdir(), 'troupe-workflows-'));
  const shipped = resolve(repoRoot, 'workflows');
  for (const file of readdirSync(shipped)) copyFileSync(join(shipped, file), join(workflowsDir, file));
  const write = (w: { id: string }) => writeFileSync(join(workflowsDir, `${w.id}.v1.yaml`), stringify(w));
  write(
    ticketWorkflow(
      'strict-tickets',
      { validation: { repair: { maxAttempts: 3 } } },
      // The local model never produces a ticketId: every attempt fails the schema.
      { type: 'object', required: ['reply', 'ticketId'], properties: { reply: { type: 'string' }, ticketId: { type: 'string' } } },
    ),
  );
  write(ticketWorkflow('reviewed-tickets', { review: { when: [{ always: true }], deadlineSeconds: 3600 } }));
  write(ticketWorkflow('deadline-tickets', { review: { when: [{ label: 'billing' }], deadlineSeconds: 5, onDeadline: 'reject' } }));
  write(
    ticketWorkflow('unanswered-tickets', {
      review: { when: [{ always: true }], deadlineSeconds: 1, onDeadline: 'escalate', escalationDeadlineSeconds: 1 },
    }),
  );
  write(ticketWorkflow('escalated-tickets', { review: { when: [{ confidenceBelow: 0.99 }], deadlineSeconds: 1, onDeadline: 'escalate' } }));

  const env = {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    TROUPE_API_KEYS: [`acme:submitter:${SUBMITTER}`, `acme:reviewer:${REVIEWER}`, `acme:admin:${ADMIN}`, `globex:reviewer:${OTHER_TENANT_REVIEWER}`].join(','),
    TROUPE_WORKFLOWS_DIR: workflowsDir,
    TROUPE_WEBHOOK_SECRETS: `*=whsec_${Buffer.from('troupe-review-e2e-secret-0123456789').toString('base64')}`,
    TROUPE_REVIEW_POLL_MS: '200',
    TROUPE_LOG_LEVEL: 'warn',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_TRACES_EXPORTER: 'otlp',
  };
  for (const name of SERVICES) services.set(name, new ServiceProcess(name, await freePort(), env));
  await services.get('intake')!.start(); // intake first: it creates the topics
  await Promise.all(SERVICES.slice(1).map((name) => services.get(name)!.start()));
  api = services.get('intake')!.url;
});

afterAll(async () => {
  const codes = await Promise.all([...services.values()].map((s) => s.stop()));
  await otlp?.close();
  await db?.drop();
  rmSync(workflowsDir, { recursive: true, force: true });
  expect(codes).toEqual(SERVICES.map(() => 0));
});

async function call(path: string, init: { key?: string; method?: string; body?: unknown } = {}) {
  const response = await fetch(`${api}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.key ?? SUBMITTER}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function submit(workflow: string, text: string): Promise<string> {
  const { status, body } = await call('/v1/jobs', { method: 'POST', body: { workflow, input: { text } } });
  expect(status).toBe(202);
  return body.id;
}

const job = async (id: string) => (await call(`/v1/jobs/${id}`)).body;
const types = (j: Record<string, any>) => (j.timeline as { type: string }[]).map((e) => e.type);

/**
 * Waits for the job to be delivered (the end of the pipeline) and for its timeline to hold every
 * type given: the read model applies each topic's events independently.
 */
async function finished(id: string, ...expected: string[]) {
  const wanted = [...expected, 'troupe.job.delivered.v1'];
  return waitFor(
    async () => {
      const j = await job(id);
      // A type given twice must appear (at least) twice.
      const seen = types(j);
      const enough = wanted.every((t) => seen.filter((x) => x === t).length >= wanted.filter((x) => x === t).length);
      return j.status === 'delivered' && enough ? j : undefined;
    },
    { timeoutMs: 60_000, description: `job ${id} to be delivered with ${wanted.join(', ')} in its timeline` },
  );
}

async function heldReview(jobId: string) {
  return waitFor(
    async () => {
      const { body } = await call(`/v1/reviews?job=${jobId}`, { key: REVIEWER });
      return (body.items as Record<string, any>[]).find((r) => r.jobId === jobId);
    },
    { timeoutMs: 60_000, description: `a review for job ${jobId}` },
  );
}

describe('repair loop', () => {
  it('given an output failing a policy, when generation retries with the errors, then the second attempt passes and the job is validated', async () => {
    // The templated reply quotes the ticket's first sentence: here that carries an email address.
    const id = await submit('support-ticket-reply', 'Please send the invoice to jane.doe@example.com today. I was charged twice.');
    const done = await finished(id, 'troupe.job.generated.v1', 'troupe.job.generated.v1', 'troupe.job.regenerate-requested.v1', 'troupe.job.validated.v1');
    expect(done.outcome).toBe('succeeded');
    expect(JSON.stringify(done.result)).not.toContain('jane.doe@example.com');
    expect(types(done).filter((t) => t === 'troupe.job.generated.v1')).toHaveLength(2);
    const regenerate = (done.timeline as { type: string; summary: string }[]).filter((e) => e.type === 'troupe.job.regenerate-requested.v1');
    expect(regenerate).toHaveLength(1);
    expect(regenerate[0].summary).toMatch(/attempt 1 failed validation \(POLICY_PII_EMAIL\).*attempt 2 of 2/);
  });

  it('given an output no attempt can fix, when the attempts run out, then the job is rejected with the reasons of every attempt', async () => {
    const id = await submit('strict-tickets', 'I need a copy of my invoice please.');
    const generated = Array(3).fill('troupe.job.generated.v1');
    const done = await finished(id, ...generated, 'troupe.job.regenerate-requested.v1', 'troupe.job.regenerate-requested.v1', 'troupe.job.rejected.v1');
    expect(done).toMatchObject({ status: 'delivered', outcome: 'rejected' });
    expect(types(done).filter((t) => t === 'troupe.job.generated.v1')).toHaveLength(3);
    expect(types(done).filter((t) => t === 'troupe.job.regenerate-requested.v1')).toHaveLength(2);
    const reasons = done.errors as { code: string; attempt: number }[];
    expect(reasons.filter((r) => r.code === 'SCHEMA_REQUIRED').map((r) => r.attempt)).toEqual([1, 2, 3]);
  });
});

describe('human review', () => {
  it('given a held result, when a reviewer approves it, then the job is validated with the original output and the decision is in the timeline', async () => {
    const id = await submit('reviewed-tickets', 'My invoice shows the wrong address.');
    const review = await heldReview(id);
    expect(review).toMatchObject({ status: 'pending', heldBecause: ['always'], workflow: { id: 'reviewed-tickets' }, input: { text: 'My invoice shows the wrong address.' } });
    expect((await job(id)).status).toBe('awaiting_review');

    // A submitter may not decide; another tenant does not see the review; a bad body is a 400.
    expect((await call(`/v1/reviews/${review.id}/decision`, { method: 'POST', body: { decision: 'approve' } })).body.error.code).toBe('FORBIDDEN');
    expect((await call(`/v1/reviews/${review.id}`, { key: OTHER_TENANT_REVIEWER })).status).toBe(404);
    const bad = await call(`/v1/reviews/${review.id}/decision`, { key: REVIEWER, method: 'POST', body: { decision: 'maybe' } });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);

    const decided = await call(`/v1/reviews/${review.id}/decision`, { key: REVIEWER, method: 'POST', body: { decision: 'approve', comment: 'looks right' } });
    expect(decided.status).toBe(202);
    expect(decided.body).toMatchObject({ status: 'decided', decision: { decision: 'approve', reviewer: { role: 'reviewer' } } });
    const again = await call(`/v1/reviews/${review.id}/decision`, { key: REVIEWER, method: 'POST', body: { decision: 'reject' } });
    expect([again.status, again.body.error.code]).toEqual([409, 'REVIEW_ALREADY_RESOLVED']);

    const done = await finished(id, 'troupe.review.decided.v1', 'troupe.job.validated.v1');
    expect(done).toMatchObject({ outcome: 'succeeded', result: review.output });
    const entry = (done.timeline as { type: string; summary: string; time: string }[]).find((e) => e.type === 'troupe.review.decided.v1')!;
    expect(entry.summary).toMatch(/^review approved by reviewer key [0-9a-f]{8} at .+: looks right$/);
    expect(types(done).indexOf('troupe.review.decided.v1')).toBeLessThan(types(done).indexOf('troupe.job.validated.v1'));
    expect((await call(`/v1/reviews?status=decided&workflow=reviewed-tickets`, { key: REVIEWER })).body.items.map((r: { id: string }) => r.id)).toContain(review.id);

    // The decision continues the job's trace: validation's processing of it is in the same trace as its generation.
    const spanOf = (name: string) => otlp.spans.find((x) => x.name === name && x.attributes['troupe.job.id'] === id);
    const [generated, decision] = await waitFor(
      () => {
        const pair = [spanOf('process troupe.job.generated'), spanOf('process troupe.review.decided')];
        return pair.every(Boolean) ? pair : undefined;
      },
      { description: 'the spans of the generated output and the decision' },
    );
    expect(decision!.traceId).toBe(generated!.traceId);
  });

  it('given a held result, when a reviewer edits it, then an edit breaking the schema is refused and a valid one becomes the result', async () => {
    const id = await submit('reviewed-tickets', 'I was charged twice this month.');
    const review = await heldReview(id);
    const invalid = await call(`/v1/reviews/${review.id}/decision`, { key: REVIEWER, method: 'POST', body: { decision: 'edit', output: { reply: 'too short' } } });
    expect([invalid.status, invalid.body.error.code]).toEqual([422, 'REVIEW_OUTPUT_INVALID']);
    expect(invalid.body.error.details.length).toBeGreaterThan(0);

    const corrected = { ...review.output, reply: 'Hello, we have refunded the duplicate charge; it will show within five days.' };
    expect((await call(`/v1/reviews/${review.id}/decision`, { key: ADMIN, method: 'POST', body: { decision: 'edit', output: corrected } })).status).toBe(202);
    const done = await finished(id, 'troupe.job.validated.v1');
    expect(done).toMatchObject({ outcome: 'succeeded', result: corrected });
    expect((done.timeline as { type: string; summary: string }[]).find((e) => e.type === 'troupe.review.decided.v1')?.summary).toMatch(/edited and approved by admin key/);
  });

  it('given a held result, when a reviewer rejects it, then the job is rejected with the comment as the reason', async () => {
    const id = await submit('reviewed-tickets', 'Where is my refund?');
    const review = await heldReview(id);
    expect((await call(`/v1/reviews/${review.id}/decision`, { key: REVIEWER, method: 'POST', body: { decision: 'reject', comment: 'promises too much' } })).status).toBe(202);
    const done = await finished(id, 'troupe.job.rejected.v1');
    expect(done.outcome).toBe('rejected');
    expect(done.errors).toEqual([{ code: 'REVIEW_REJECTED', message: expect.stringMatching(/rejected by reviewer [0-9a-f]{8}: promises too much/) }]);
  });

  it('given a review whose deadline passes while validation is down, when validation restarts, then the deadline rule rejects the job', async () => {
    const validation = services.get('validation')!;
    const id = await submit('deadline-tickets', 'My invoice is wrong.');
    const review = await heldReview(id);
    expect(await validation.stop()).toBe(0);
    // Nothing in memory can hold the timer now; wait until the deadline is behind us.
    await waitFor(() => Date.parse(review.dueAt) < Date.now() - 500, { timeoutMs: 10_000, description: 'the review deadline to pass' });
    expect((await job(id)).status).toBe('awaiting_review');
    await validation.start();

    const done = await finished(id, 'troupe.job.review-expired.v1', 'troupe.job.rejected.v1');
    expect(done.outcome).toBe('rejected');
    expect(done.errors).toEqual([{ code: 'REVIEW_DEADLINE_PASSED', message: expect.stringContaining(review.dueAt) }]);
    expect((await call(`/v1/reviews/${review.id}`, { key: REVIEWER })).body.status).toBe('expired');
  });

  it('given the OpenAPI document, then it describes the review routes', async () => {
    const doc = (await (await fetch(`${api}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/reviews', '/v1/reviews/{id}', '/v1/reviews/{id}/decision']));
    expect(Object.keys(doc.paths['/v1/reviews/{id}/decision'].post as object)).toContain('requestBody');
  });

  it('given a review that escalates at its deadline, then only an admin may decide it', async () => {
    const id = await submit('escalated-tickets', 'Question about my invoice.');
    const review = await heldReview(id);
    const escalated = await waitFor(
      async () => {
        const { body } = await call(`/v1/reviews/${review.id}`, { key: REVIEWER });
        return body.status === 'escalated' ? body : undefined;
      },
      { description: 'the review to be escalated' },
    );
    expect(escalated.onDeadline).toBe('escalate');
    const refused = await call(`/v1/reviews/${review.id}/decision`, { key: REVIEWER, method: 'POST', body: { decision: 'approve' } });
    expect([refused.status, refused.body.error.code]).toEqual([403, 'FORBIDDEN']);
    expect((await call(`/v1/reviews/${review.id}/decision`, { key: ADMIN, method: 'POST', body: { decision: 'approve' } })).status).toBe(202);
    const done = await finished(id, 'troupe.job.review-expired.v1', 'troupe.job.validated.v1');
    expect(done.outcome).toBe('succeeded');
  });

  it('given an escalated review with an escalation deadline, when no admin decides in time, then the job is rejected', async () => {
    const id = await submit('unanswered-tickets', 'Nobody will answer this ticket.');
    const review = await heldReview(id);
    const done = await finished(id, 'troupe.job.review-expired.v1', 'troupe.job.review-expired.v1', 'troupe.job.rejected.v1');
    expect(done.errors).toMatchObject([{ code: 'REVIEW_DEADLINE_PASSED' }]);
    const summaries = (done.timeline as { type: string; summary: string }[]).filter((e) => e.type === 'troupe.job.review-expired.v1').map((e) => e.summary);
    expect(summaries[0]).toMatch(/escalated to an admin$/);
    expect(summaries[1]).toMatch(/rejected$/);
    expect((await call(`/v1/reviews/${review.id}`, { key: ADMIN })).body.status).toBe('expired');
  });

  it('given several reviews, when listed page by page, then each appears once, oldest first, and filters apply', async () => {
    const all = (await call('/v1/reviews?status=all&limit=100', { key: REVIEWER })).body.items as { id: string; requestedAt: string }[];
    expect(all.length).toBeGreaterThanOrEqual(4);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: Record<string, any> } = await call(`/v1/reviews?status=all&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { key: REVIEWER });
      seen.push(...page.body.items.map((r: { id: string }) => r.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((r) => r.id));
    expect([...all].sort((a, b) => a.requestedAt.localeCompare(b.requestedAt)).map((r) => r.id)).toEqual(all.map((r) => r.id));
    const billing = (await call('/v1/reviews?status=all&label=billing', { key: REVIEWER })).body.items as { label: string }[];
    expect(billing.length).toBeGreaterThan(0);
    expect(billing.every((r) => r.label === 'billing')).toBe(true);
    expect((await call('/v1/reviews?status=all', { key: OTHER_TENANT_REVIEWER })).body.items).toEqual([]);
    expect((await call('/v1/reviews?cursor=nonsense', { key: REVIEWER })).body.error.code).toBe('INVALID_CURSOR');
  });
});
