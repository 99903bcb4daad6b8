import { createTestDatabase, freePort, ServiceProcess } from '@troupe/testing';
import { Client } from 'pg';

// Rate limits held across two intake replicas sharing one PostgreSQL: real processes, real HTTP.
// Rates are tiny (one request per 100 s) so that no token comes back while a test runs: the counts
// below are exact whatever the machine's speed.

const A_ADMIN = 'acme-admin-key-0123456789';
const A_SUBMITTER = 'acme-submitter-key-0123456789';
const B_SUBMITTER = 'globex-submitter-key-0123456789';
const TENANT_BURST = 12;
const JOBS_IN_FLIGHT = 3;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const replicas: ServiceProcess[] = [];

const call = (replica: number, key: string, method: string, path: string, body?: unknown) =>
  fetch(`${replicas[replica].url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

beforeAll(async () => {
  db = await createTestDatabase('ratelimits');
  const env = {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    TROUPE_API_KEYS: [`acme:admin:${A_ADMIN}`, `acme:submitter:${A_SUBMITTER}`, `globex:submitter:${B_SUBMITTER}`].join(','),
    TROUPE_LOG_LEVEL: 'warn',
    TROUPE_RATE_LIMIT_TENANT_RPS: '0.01',
    TROUPE_RATE_LIMIT_TENANT_BURST: String(TENANT_BURST),
    TROUPE_RATE_LIMIT_TENANT_JOBS_IN_FLIGHT: String(JOBS_IN_FLIGHT),
  };
  for (let i = 0; i < 2; i++) replicas.push(new ServiceProcess('intake', await freePort(), env));
  await replicas[0].start();
  await replicas[1].start();
});

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await db?.drop();
});

describe('rate limits', () => {
  it("given a key limited to bursts of 5, when 12 requests arrive at once on two replicas, then exactly 5 pass and the rest are 429s with Retry-After and RateLimit fields; the tenant's budget is shared by its keys", async () => {
    const created = await call(0, A_ADMIN, 'POST', '/v1/admin/keys', {
      name: 'limited',
      role: 'submitter',
      rateLimit: { requestsPerSecond: 0.01, burst: 5 },
    });
    expect(created.status).toBe(201); // the tenant's 1st request
    const { key } = (await created.json()) as { key: string };

    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => call(i % 2, key, 'GET', '/v1/jobs')));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);

    const ok = answers.find((a) => a.status === 200)!;
    expect(ok.headers.get('ratelimit-policy')).toBe(`"key";q=5;w=500, "tenant";q=${TENANT_BURST};w=1200`);
    expect(ok.headers.get('ratelimit')).toMatch(/^"key";r=[0-4];t=\d+, "tenant";r=\d+;t=\d+$/);

    const refused = answers.find((a) => a.status === 429)!;
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('RATE_LIMITED');
    expect(body.error.message).toContain('key');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(100);
    expect(refused.headers.get('ratelimit')).toMatch(/^"key";r=0;t=\d+$/);

    // The tenant has spent 1 + 5 of its 12: its other keys share the remaining 6.
    const rest = await Promise.all(Array.from({ length: 9 }, (_, i) => call(i % 2, A_SUBMITTER, 'GET', '/v1/jobs')));
    expect(rest.filter((a) => a.status === 200)).toHaveLength(TENANT_BURST - 6);
    const tenantRefusal = rest.find((a) => a.status === 429)!;
    expect(((await tenantRefusal.json()) as { error: { message: string } }).error.message).toContain('tenant');
    expect(tenantRefusal.headers.get('retry-after')).toBeTruthy();

    // Another tenant is not affected.
    expect((await call(1, B_SUBMITTER, 'GET', '/v1/jobs')).status).toBe(200);
  });

  it('given a tenant limited to 3 jobs in flight, when it submits a 4th, then 429 TOO_MANY_JOBS_IN_FLIGHT; once one finishes, it may submit again', async () => {
    const submit = (replica: number) =>
      call(replica, B_SUBMITTER, 'POST', '/v1/jobs', { workflow: 'support-ticket-reply', input: { text: 'hello' } });
    const ids: string[] = [];
    for (let i = 0; i < JOBS_IN_FLIGHT; i++) {
      const r = await submit(i % 2);
      expect(r.status).toBe(202);
      ids.push(((await r.json()) as { id: string }).id);
    }
    const fourth = await submit(1);
    expect(fourth.status).toBe(429);
    expect(((await fourth.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_JOBS_IN_FLIGHT');
    expect(fourth.headers.get('retry-after')).toBe('1');
    // Other routes are not held back by jobs in flight.
    expect((await call(0, B_SUBMITTER, 'GET', `/v1/jobs/${ids[0]}`)).status).toBe(200);

    // One job reaches its outcome (as the read model records it from the pipeline's events).
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    await pg.query(`UPDATE intake.jobs SET status = 'delivered' WHERE id = $1`, [ids[0]]);
    await pg.end();
    expect((await submit(0)).status).toBe(202);
  });
});
