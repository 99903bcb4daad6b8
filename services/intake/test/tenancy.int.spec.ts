import { randomUUID } from 'node:crypto';
import { DLQ_HEADERS } from '@troupe/messaging';
import { createTestDatabase, freePort, ServiceProcess, testKafka, waitFor } from '@troupe/testing';
import { Client } from 'pg';

// Tenant isolation and input hygiene at intake's HTTP API: intake as a process from its build output,
// a real Kafka broker (dead letters produced to troupe.dlq.*), a real PostgreSQL, real HTTP.

const KEYS = {
  aSubmitter: 'acme-submitter-key-0123456789',
  aReviewer: 'acme-reviewer-key-0123456789',
  aAdmin: 'acme-admin-key-0123456789',
  bSubmitter: 'globex-submitter-key-0123456789',
  bReviewer: 'globex-reviewer-key-0123456789',
  bAdmin: 'globex-admin-key-0123456789',
  platform: 'ops-platform-key-0123456789',
};
const B_KEYS = { submitter: KEYS.bSubmitter, reviewer: KEYS.bReviewer, admin: KEYS.bAdmin } as const;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let intake: ServiceProcess;
let api: string;
let jobId: string;
let reviewId: string;
const SECRET_TEXT = 'acme-confidential-ticket-text';
const run = randomUUID().slice(0, 8);
// Dead letters are identified by their position; this run's are found by their job ids.
const letterJob = randomUUID();
const tenantlessJob = randomUUID();
let letterId: string;
let tenantlessId: string;

const call = (key: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${api}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });

beforeAll(async () => {
  db = await createTestDatabase('tenancy');
  intake = new ServiceProcess('intake', await freePort(), {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    TROUPE_API_KEYS: [
      `acme:submitter:${KEYS.aSubmitter}`,
      `acme:reviewer:${KEYS.aReviewer}`,
      `acme:admin:${KEYS.aAdmin}`,
      `globex:submitter:${KEYS.bSubmitter}`,
      `globex:reviewer:${KEYS.bReviewer}`,
      `globex:admin:${KEYS.bAdmin}`,
      `ops:platform:${KEYS.platform}`,
    ].join(','),
    TROUPE_LOG_LEVEL: 'warn',
  });
  await intake.start();
  api = intake.url;

  const created = await call(KEYS.aSubmitter, 'POST', '/v1/jobs', {
    workflow: 'support-ticket-reply',
    input: { text: SECRET_TEXT },
    metadata: { run },
  });
  expect(created.status).toBe(202);
  jobId = ((await created.json()) as { id: string }).id;

  // A review of tenant A's job, as validation's review request would leave it.
  reviewId = randomUUID();
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  await pg.query(
    `INSERT INTO intake.reviews (id, job_id, tenant_id, workflow_id, workflow_version, status, label, confidence, output,
       output_schema, held_because, due_at, on_deadline, requested_at)
     VALUES ($1, $2, 'acme', 'support-ticket-reply', 1, 'pending', 'billing', 0.5, $3, '{}', '[]', now() + interval '1 hour', 'reject', now())`,
    [reviewId, jobId, JSON.stringify({ reply: SECRET_TEXT })],
  );
  await pg.end();

  // Two dead letters: one of tenant A's job, one naming no tenant.
  const producer = testKafka().producer();
  await producer.connect();
  const letter = (job: string, tenant?: string) => ({
    key: job,
    value: JSON.stringify({ data: { text: SECRET_TEXT } }),
    headers: {
      [DLQ_HEADERS.topic]: 'troupe.job.generated',
      [DLQ_HEADERS.code]: 'HANDLER_FAILED',
      [DLQ_HEADERS.reason]: 'test letter',
      [DLQ_HEADERS.time]: new Date().toISOString(),
      ce_subject: job,
      ce_id: randomUUID(),
      ce_type: 'job.generated.v1',
      ...(tenant ? { ce_tenantid: tenant } : {}),
    },
  });
  await producer.send({ topic: 'troupe.dlq.validation', messages: [letter(letterJob, 'acme'), letter(tenantlessJob)] });
  await producer.disconnect();
  const pgLetters = new Client({ connectionString: db.url });
  await pgLetters.connect();
  await waitFor(
    async () => (await pgLetters.query(`SELECT 1 FROM intake.dead_letters WHERE job_id = ANY($1)`, [[letterJob, tenantlessJob]])).rowCount === 2,
    { timeoutMs: 30_000, description: 'the dead letters to be indexed' },
  );
  const rows = await pgLetters.query(`SELECT id, job_id FROM intake.dead_letters WHERE job_id = ANY($1)`, [[letterJob, tenantlessJob]]);
  letterId = rows.rows.find((r) => r.job_id === letterJob).id;
  tenantlessId = rows.rows.find((r) => r.job_id === tenantlessJob).id;
  await pgLetters.end();
});

afterAll(async () => {
  await intake?.stop();
  await db?.drop();
});

describe('tenant isolation', () => {
  // Every route that names a row by id, with what the role it needs.
  const routes = () =>
    [
      { method: 'GET', path: `/v1/jobs/${jobId}`, missing: `/v1/jobs/${randomUUID()}`, needs: null },
      { method: 'POST', path: `/v1/jobs/${jobId}/redeliver`, missing: `/v1/jobs/${randomUUID()}/redeliver`, needs: 'submitter' },
      { method: 'POST', path: `/v1/jobs/${jobId}/cancel`, missing: `/v1/jobs/${randomUUID()}/cancel`, needs: 'submitter', body: {} },
      { method: 'GET', path: `/v1/reviews/${reviewId}`, missing: `/v1/reviews/${randomUUID()}`, needs: 'reviewer' },
      {
        method: 'POST',
        path: `/v1/reviews/${reviewId}/decision`,
        missing: `/v1/reviews/${randomUUID()}/decision`,
        needs: 'reviewer',
        body: { decision: 'approve' },
      },
      { method: 'GET', path: `/v1/admin/dead-letters/${letterId}`, missing: `/v1/admin/dead-letters/validation:0:999999999`, needs: 'admin' },
      {
        method: 'POST',
        path: `/v1/admin/dead-letters/${letterId}/replay`,
        missing: `/v1/admin/dead-letters/validation:0:999999999/replay`,
        needs: 'admin',
      },
    ] as const;

  it("given another tenant's key of every role, when it names a row of tenant A by id, then it gets what a missing id gets, never A's data", async () => {
    for (const route of routes()) {
      for (const [role, key] of Object.entries(B_KEYS)) {
        const permitted = route.needs === null || role === 'admin' || role === route.needs;
        const response = await call(key, route.method, route.path, 'body' in route ? route.body : undefined);
        const text = await response.text();
        const missing = await call(key, route.method, route.missing, 'body' in route ? route.body : undefined);
        const missingBody = (await missing.json()) as { error: { code: string } };
        const where = `${role} ${route.method} ${route.path}`;
        expect({ where, status: response.status }).toEqual({ where, status: permitted ? 404 : 403 });
        expect({ where, status: missing.status }).toEqual({ where, status: response.status });
        expect(JSON.parse(text).error.code).toBe(missingBody.error.code);
        expect(text).not.toContain(SECRET_TEXT);
      }
    }
    // Nothing B tried changed A's rows: the job is not cancelled, the review undecided, the letter never replayed.
    const job = (await (await call(KEYS.aSubmitter, 'GET', `/v1/jobs/${jobId}`)).json()) as { status: string; cancelRequestedAt?: unknown };
    expect(job.status).toBe('requested');
    expect(job.cancelRequestedAt ?? null).toBeNull();
    const review = (await (await call(KEYS.aReviewer, 'GET', `/v1/reviews/${reviewId}`)).json()) as { status: string };
    expect(review.status).toBe('pending');
    const letter = (await (await call(KEYS.aAdmin, 'GET', `/v1/admin/dead-letters/${letterId}`)).json()) as { replayCount: number };
    expect(letter.replayCount).toBe(0);
    // Every attempt is in the audit log of the tenant that tried, as a failure.
    const audit = (await (await call(KEYS.bAdmin, 'GET', '/v1/admin/audit?outcome=failed&limit=500')).json()) as {
      items: { action: string; targetId: string; status: number }[];
    };
    const tried = new Set(audit.items.map((e) => `${e.action} ${e.targetId} ${e.status}`));
    for (const expected of [
      `job.cancel ${jobId} 404`,
      `job.redeliver ${jobId} 404`,
      `review.decide ${reviewId} 404`,
      `dead-letter.replay ${letterId} 404`,
    ])
      expect(tried).toContain(expected);
    expect(((await (await call(KEYS.aAdmin, 'GET', '/v1/admin/audit?outcome=failed')).json()) as { items: unknown[] }).items).toEqual([]);
  });

  it("given another tenant's keys, when they list jobs, reviews and dead letters, then none of tenant A's rows appear", async () => {
    for (const key of [KEYS.bSubmitter, KEYS.bReviewer, KEYS.bAdmin]) {
      for (const path of ['/v1/jobs?limit=100', '/v1/reviews?limit=100', '/v1/admin/dead-letters?limit=500']) {
        const response = await call(key, 'GET', path);
        const text = await response.text();
        expect([200, 403]).toContain(response.status);
        for (const id of [jobId, reviewId, letterId, tenantlessId]) expect(text).not.toContain(id);
      }
    }
  });

  it('given a tenant admin and a platform operator, when they list dead letters, then the admin sees its own only and the operator all, tenantless included', async () => {
    const ids = async (key: string, query = '') => {
      const response = await call(key, 'GET', `/v1/admin/dead-letters?limit=500${query}`);
      expect(response.status).toBe(200);
      return ((await response.json()) as { items: { id: string }[] }).items.map((i) => i.id);
    };
    const admin = await ids(KEYS.aAdmin);
    expect(admin).toContain(letterId);
    expect(admin).not.toContain(tenantlessId);
    expect((await call(KEYS.aAdmin, 'GET', `/v1/admin/dead-letters/${tenantlessId}`)).status).toBe(404);
    const platform = await ids(KEYS.platform);
    expect(platform).toEqual(expect.arrayContaining([letterId, tenantlessId]));
    expect(await ids(KEYS.platform, '&tenant=none')).toEqual(expect.arrayContaining([tenantlessId]));
    expect(await ids(KEYS.platform, '&tenant=none')).not.toContain(letterId);
    expect(await ids(KEYS.platform, '&tenant=acme')).not.toContain(tenantlessId);
    expect((await call(KEYS.platform, 'GET', `/v1/admin/dead-letters/${tenantlessId}`)).status).toBe(200);
    // Choosing another tenant is the operator's alone.
    const chosen = await call(KEYS.aAdmin, 'GET', '/v1/admin/dead-letters?tenant=globex');
    expect(chosen.status).toBe(403);
  });
});

describe('input hygiene', () => {
  const job = (extra: Record<string, unknown> = {}) => ({ workflow: 'support-ticket-reply', input: { text: 'hello' }, ...extra });

  it.each([
    ['a NUL in input.text', job({ input: { text: 'a\u0000b' } }), 'body', 'input.text'],
    ['a lone surrogate in input.text', job({ input: { text: 'a\ud800b' } }), 'body', 'input.text'],
    ['a NUL in a metadata value', job({ metadata: { k: 'v\u0000' } }), 'body', 'metadata.k'],
    ['a lone low surrogate in a metadata key', job({ metadata: { ['k\udc00']: 'v' } }), 'body', 'metadata.k\udc00'],
  ])('given %s, when a job is created, then 400 INVALID_TEXT names the field', async (_name, body, where, path) => {
    const response = await call(KEYS.aSubmitter, 'POST', '/v1/jobs', body);
    expect(response.status).toBe(400);
    const error = ((await response.json()) as { error: { code: string; message: string; details: { path: string }[] } }).error;
    expect(error.code).toBe('INVALID_TEXT');
    expect(error.message).toContain(where);
    expect(error.details[0].path).toBe(path);
  });

  it.each([
    ['/v1/reviews?workflow=%00', KEYS.aReviewer],
    ['/v1/reviews?label=a%00b', KEYS.aReviewer],
    ['/v1/admin/dead-letters?code=%00', KEYS.aAdmin],
    ['/v1/jobs?workflow=%ED%A0%80', KEYS.aSubmitter], // the UTF-8 bytes of U+D800 decode to U+FFFD: valid, no match
    ['/v1/jobs/%00', KEYS.aSubmitter],
  ])('given %s, when listed, then it is a 4xx, never a 500', async (path, key) => {
    const response = await call(key, 'GET', path);
    expect(response.status).toBeGreaterThanOrEqual(200);
    expect(response.status).toBeLessThan(500);
    if (path.includes('%00')) {
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('INVALID_TEXT');
    }
  });

  it('given a text/plain body, when a job is created, then 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const response = await call(KEYS.aSubmitter, 'POST', '/v1/jobs', JSON.stringify(job()), { 'content-type': 'text/plain' });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('given an unsupported method on a route that exists, then 405 with Allow; an unknown path stays 404', async () => {
    const del = await call(KEYS.aAdmin, 'DELETE', '/v1/jobs');
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(((await del.json()) as { error: { code: string } }).error.code).toBe('METHOD_NOT_ALLOWED');
    const put = await call(KEYS.aAdmin, 'PUT', `/v1/jobs/${jobId}`);
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD');
    expect((await call(KEYS.aAdmin, 'GET', '/v1/nothing-here')).status).toBe(404);
  });

  it('given a malformed percent-encoding in the path, then 400, never a 500', async () => {
    const response = await call(KEYS.aSubmitter, 'GET', '/v1/jobs/%E0%A4%A');
    expect(response.status).toBeLessThan(500);
    expect(response.status).toBeGreaterThanOrEqual(400);
  });
});
