import { createTestDatabase, freePort, ServiceProcess, waitFor } from '@troupe/testing';
import { Client } from 'pg';

// Managed API keys across two intake replicas sharing one PostgreSQL: real processes, real HTTP.

const A_ADMIN = 'acme-admin-key-0123456789';
const B_ADMIN = 'globex-admin-key-0123456789';
const PLATFORM = 'ops-platform-key-0123456789';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pg: Client;
const replicas: ServiceProcess[] = [];

const call = (replica: number, key: string, method: string, path: string, body?: unknown) =>
  fetch(`${replicas[replica].url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

beforeAll(async () => {
  db = await createTestDatabase('keys');
  const env = {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    TROUPE_API_KEYS: [`acme:admin:${A_ADMIN}`, `globex:admin:${B_ADMIN}`, `ops:platform:${PLATFORM}`].join(','),
    TROUPE_LOG_LEVEL: 'debug',
  };
  for (let i = 0; i < 2; i++) replicas.push(new ServiceProcess('intake', await freePort(), env));
  await replicas[0].start(); // the first runs the migrations
  await replicas[1].start();
  pg = new Client({ connectionString: db.url });
  await pg.connect();
});

afterAll(async () => {
  await pg?.end();
  await Promise.all(replicas.map((r) => r.stop()));
  await db?.drop();
});

interface Created {
  id: string;
  key: string;
  prefix: string;
  tenantId: string;
  role: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const create = async (replica: number, key: string, body: Record<string, unknown>) => {
  const response = await call(replica, key, 'POST', '/v1/admin/keys', body);
  expect(response.status).toBe(201);
  return (await response.json()) as Created;
};

describe('managed API keys', () => {
  it('given a key created on one replica, when it is revoked there, then the other replica refuses it on its next request', async () => {
    const created = await create(0, A_ADMIN, { name: 'ci submitter', role: 'submitter' });
    expect(created.key).toMatch(/^trp_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(created).toMatchObject({ tenantId: 'acme', role: 'submitter', revokedAt: null });

    // Usable on both replicas; jobs it submits are its tenant's.
    for (const replica of [0, 1]) {
      const job = await call(replica, created.key, 'POST', '/v1/jobs', { workflow: 'support-ticket-reply', input: { text: 'hello' } });
      expect(job.status).toBe(202);
    }
    // Its role holds: a submitter key is not an admin.
    expect((await call(1, created.key, 'GET', '/v1/admin/keys')).status).toBe(403);

    // Shown once: never again, in no listing or read, and only its hash is stored.
    const listed = await (await call(1, A_ADMIN, 'GET', '/v1/admin/keys')).text();
    expect(listed).toContain(created.id);
    expect(listed).not.toContain(created.key);
    expect(await (await call(1, A_ADMIN, 'GET', `/v1/admin/keys/${created.id}`)).text()).not.toContain(created.key);
    for (const table of ['api_keys', 'jobs', 'job_events', 'outbox']) {
      const { rows } = await pg.query(`SELECT count(*)::int AS n FROM intake.${table} t WHERE t::text LIKE $1`, [`%${created.key.slice(4)}%`]);
      expect({ table, n: rows[0].n }).toEqual({ table, n: 0 });
    }
    await waitFor(async () => {
      const view = (await (await call(0, A_ADMIN, 'GET', `/v1/admin/keys/${created.id}`)).json()) as Created;
      return view.lastUsedAt !== null;
    }, { timeoutMs: 10_000, description: 'last use to be recorded' });

    const revoked = await call(0, A_ADMIN, 'DELETE', `/v1/admin/keys/${created.id}`);
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as Created).revokedAt).not.toBeNull();
    const refused = await call(1, created.key, 'GET', '/v1/jobs');
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    expect((await call(0, created.key, 'GET', '/v1/jobs')).status).toBe(401);

    // The key appears in no log line of either replica (debug level).
    for (const replica of replicas) expect(replica.output.join("")).not.toContain(created.key.slice(4));
  });

  it('given a key with an expiry, when it passes, then the key is refused', async () => {
    const created = await create(1, A_ADMIN, { name: 'short-lived', role: 'submitter', expiresAt: new Date(Date.now() + 1500).toISOString() });
    expect((await call(0, created.key, 'GET', '/v1/jobs')).status).toBe(200);
    await waitFor(async () => (await call(0, created.key, 'GET', '/v1/jobs')).status === 401, {
      timeoutMs: 10_000,
      description: 'the key to expire',
    });
  });

  it("given another tenant's admin, when it reads or revokes a key of tenant A, then 404 and the key still works", async () => {
    const created = await create(0, A_ADMIN, { name: 'a reviewer', role: 'reviewer' });
    for (const [method, path] of [
      ['GET', `/v1/admin/keys/${created.id}`],
      ['DELETE', `/v1/admin/keys/${created.id}`],
    ]) {
      const response = await call(1, B_ADMIN, method, path);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('API_KEY_NOT_FOUND');
    }
    expect(await (await call(1, B_ADMIN, 'GET', '/v1/admin/keys')).text()).not.toContain(created.id);
    expect((await call(1, B_ADMIN, 'GET', '/v1/admin/keys?tenant=acme')).status).toBe(403);
    expect((await call(0, created.key, 'GET', '/v1/reviews')).status).toBe(200);
    // A platform operator sees it and may revoke it.
    expect(await (await call(0, PLATFORM, 'GET', '/v1/admin/keys?tenant=acme')).text()).toContain(created.id);
    expect((await call(0, PLATFORM, 'DELETE', `/v1/admin/keys/${created.id}`)).status).toBe(200);
    expect((await call(1, created.key, 'GET', '/v1/reviews')).status).toBe(401);
  });

  it('given a tenant admin, when it asks for a platform key or a key of another tenant, then 403; a platform key may', async () => {
    for (const body of [
      { name: 'escalation', role: 'platform' },
      { name: 'cross', role: 'submitter', tenant: 'globex' },
    ]) {
      const response = await call(0, A_ADMIN, 'POST', '/v1/admin/keys', body);
      expect(response.status).toBe(403);
    }
    const made = await create(0, PLATFORM, { name: 'globex ci', role: 'submitter', tenant: 'globex' });
    expect(made.tenantId).toBe('globex');
  });

  it.each([
    ['no name', { role: 'submitter' }],
    ['an empty name', { name: ' ', role: 'submitter' }],
    ['an unknown role', { name: 'x', role: 'root' }],
    ['an expiry in the past', { name: 'x', role: 'submitter', expiresAt: '2020-01-01T00:00:00Z' }],
    ['an unknown field', { name: 'x', role: 'submitter', hash: 'abc' }],
    ['a negative rate', { name: 'x', role: 'submitter', rateLimit: { requestsPerSecond: -1 } }],
    ['a NUL in the name', { name: 'x\u0000', role: 'submitter' }],
  ])('given %s, when a key is created, then 400', async (_name, body) => {
    const response = await call(0, A_ADMIN, 'POST', '/v1/admin/keys', body);
    expect(response.status).toBe(400);
  });

  it('given ids that are no key, when read or revoked, then 404', async () => {
    for (const id of ['not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
      expect((await call(0, A_ADMIN, 'GET', `/v1/admin/keys/${id}`)).status).toBe(404);
      expect((await call(0, A_ADMIN, 'DELETE', `/v1/admin/keys/${id}`)).status).toBe(404);
    }
    // A key that looks managed but is unknown is a 401, like any unknown key.
    expect((await call(0, `trp_${'x'.repeat(43)}`, 'GET', '/v1/jobs')).status).toBe(401);
  });
});

describe('the OpenAPI document', () => {
  it('describes the key and audit routes', async () => {
    const doc = (await (await fetch(`${replicas[0].url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/v1/admin/keys']).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/v1/admin/keys/{id}']).sort()).toEqual(['delete', 'get']);
    expect(Object.keys(doc.paths['/v1/admin/audit'])).toEqual(['get']);
  });
});
