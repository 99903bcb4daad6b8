import { randomUUID } from 'node:crypto';
import { createTestDatabase, freePort, ServiceProcess, waitFor } from '@troupe/testing';
import { Client } from 'pg';

// The audit log through intake's HTTP API: intake as a process, a real PostgreSQL, real HTTP.

const A_SUBMITTER = 'acme-submitter-key-0123456789';
const A_ADMIN = 'acme-admin-key-0123456789';
const B_ADMIN = 'globex-admin-key-0123456789';
const PLATFORM = 'ops-platform-key-0123456789';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pg: Client;
let intake: ServiceProcess;

const call = (key: string, method: string, path: string, body?: unknown) =>
  fetch(`${intake.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

interface Entry {
  id: string;
  tenantId: string;
  keyId: string;
  role: string;
  action: string;
  targetType: string;
  targetId: string | null;
  outcome: string;
  status: number | null;
  errorCode: string | null;
  details: Record<string, unknown>;
}
const audit = async (key: string, query = '') => {
  const response = await call(key, 'GET', `/v1/admin/audit?limit=500${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as { items: Entry[]; nextCursor: string | null };
};

beforeAll(async () => {
  db = await createTestDatabase('audit');
  intake = new ServiceProcess('intake', await freePort(), {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    TROUPE_API_KEYS: [`acme:submitter:${A_SUBMITTER}`, `acme:admin:${A_ADMIN}`, `globex:admin:${B_ADMIN}`, `ops:platform:${PLATFORM}`].join(','),
    TROUPE_LOG_LEVEL: 'warn',
    TROUPE_AUDIT_RETENTION_DAYS: '30',
    TROUPE_AUDIT_SWEEP_INTERVAL_MS: '300',
  });
  await intake.start();
  pg = new Client({ connectionString: db.url });
  await pg.connect();
});

afterAll(async () => {
  await pg?.end();
  await intake?.stop();
  await db?.drop();
});

describe('audit log', () => {
  let jobId: string;
  let keyId: string;
  let budgetId: string;

  beforeAll(async () => {
    const job = await call(A_SUBMITTER, 'POST', '/v1/jobs', { workflow: 'support-ticket-reply', input: { text: 'a private ticket text' } });
    expect(job.status).toBe(202);
    jobId = ((await job.json()) as { id: string }).id;
    expect((await call(A_SUBMITTER, 'POST', `/v1/jobs/${jobId}/cancel`, { reason: 'test' })).status).toBe(202);
    expect((await call(A_SUBMITTER, 'POST', `/v1/jobs/${randomUUID()}/cancel`, {})).status).toBe(404);
    const key = await call(A_ADMIN, 'POST', '/v1/admin/keys', { name: 'audited', role: 'reviewer' });
    expect(key.status).toBe(201);
    keyId = ((await key.json()) as { id: string }).id;
    expect((await call(A_ADMIN, 'DELETE', `/v1/admin/keys/${keyId}`)).status).toBe(200);
    const budget = await call(A_ADMIN, 'POST', '/v1/admin/budgets', { name: 'audited', period: 'month', limitUsd: 50 });
    expect(budget.status).toBe(201);
    budgetId = ((await budget.json()) as { id: string }).id;
    expect((await call(A_ADMIN, 'DELETE', `/v1/admin/budgets/${budgetId}`)).status).toBe(204);
    // Another tenant's failed attempt on A's job is recorded in its own tenant's log.
    expect((await call(B_ADMIN, 'POST', `/v1/jobs/${jobId}/redeliver`)).status).toBe(404);
  });

  it("given mutating actions, when a tenant admin reads the log, then each is there with who, what, target and outcome, and nothing of another tenant's", async () => {
    const { items } = await audit(A_ADMIN);
    const summary = items.map((e) => [e.action, e.role, e.targetId, e.outcome, e.status, e.errorCode]);
    expect(summary).toEqual([
      ['budget.delete', 'admin', budgetId, 'succeeded', 204, null],
      ['budget.create', 'admin', budgetId, 'succeeded', 201, null],
      ['key.revoke', 'admin', keyId, 'succeeded', 200, null],
      ['key.create', 'admin', keyId, 'succeeded', 201, null],
      ['job.cancel', 'submitter', expect.any(String), 'failed', 404, 'JOB_NOT_FOUND'],
      ['job.cancel', 'submitter', jobId, 'succeeded', 202, null],
      ['job.create', 'submitter', jobId, 'succeeded', 202, null],
    ]);
    expect(items.every((e) => e.tenantId === 'acme' && e.keyId.length > 0)).toBe(true);
    expect(items.find((e) => e.action === 'key.create')!.details).toEqual({ name: 'audited', role: 'reviewer', keyTenant: 'acme' });
    expect(items.find((e) => e.action === 'budget.create')!.details).toEqual({ name: 'audited', limitUsd: 50, period: 'month' });
    expect(items.find((e) => e.action === 'job.create')!.details).toEqual({ workflow: 'support-ticket-reply' });
    // The job's input and the key itself are in no entry.
    expect(JSON.stringify(items)).not.toContain('private ticket');
    expect(JSON.stringify(items)).not.toContain('trp_');

    const b = await audit(B_ADMIN);
    expect(b.items.map((e) => [e.tenantId, e.action, e.outcome, e.errorCode])).toEqual([['globex', 'job.redeliver', 'failed', 'JOB_NOT_FOUND']]);
    expect((await call(B_ADMIN, 'GET', '/v1/admin/audit?tenant=acme')).status).toBe(403);
    expect((await call(A_SUBMITTER, 'GET', '/v1/admin/audit')).status).toBe(403);
  });

  it('given filters and a page size, when listed, then they narrow the entries and the cursor walks every page once', async () => {
    expect((await audit(A_ADMIN, '&action=job.cancel')).items).toHaveLength(2);
    expect((await audit(A_ADMIN, '&outcome=failed')).items.map((e) => e.action)).toEqual(['job.cancel']);
    expect((await audit(A_ADMIN, `&targetId=${jobId}`)).items.map((e) => e.action)).toEqual(['job.cancel', 'job.create']);
    expect((await audit(A_ADMIN, `&since=${new Date(Date.now() + 60_000).toISOString()}`)).items).toHaveLength(0);
    expect((await audit(PLATFORM, '&tenant=globex')).items).toHaveLength(1);
    expect((await audit(PLATFORM)).items.length).toBeGreaterThanOrEqual(6);

    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const response = await call(A_ADMIN, 'GET', `/v1/admin/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      const page = (await response.json()) as { items: Entry[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual((await audit(A_ADMIN)).items.map((e) => e.id));
    expect((await call(A_ADMIN, 'GET', '/v1/admin/audit?cursor=bm9wZQ')).status).toBe(400);
    expect((await call(A_ADMIN, 'GET', '/v1/admin/audit?since=yesterday')).status).toBe(400);
  });

  it('given the table, when a row is updated, deleted or the table truncated, then Postgres refuses; the retention sweep deletes only entries past their period', async () => {
    for (const sql of ['UPDATE intake.audit_log SET outcome = $1', 'DELETE FROM intake.audit_log WHERE outcome = $1', 'TRUNCATE intake.audit_log']) {
      await expect(pg.query(sql, sql.startsWith('TRUNCATE') ? [] : ['succeeded'])).rejects.toThrow(/append-only/);
    }
    await pg.query(
      `INSERT INTO intake.audit_log (at, tenant_id, key_id, role, action, target_type, outcome) VALUES (now() - interval '31 days', 'acme', 'k', 'admin', 'old.action', 'x', 'succeeded')`,
    );
    await waitFor(async () => (await pg.query(`SELECT 1 FROM intake.audit_log WHERE action = 'old.action'`)).rowCount === 0, {
      timeoutMs: 10_000,
      description: 'the sweep to delete the expired entry',
    });
    expect((await audit(A_ADMIN)).items.length).toBe(7);
  });
});
