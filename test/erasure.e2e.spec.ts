import { randomUUID } from 'node:crypto';
import { startWebhookReceiver, waitFor } from '@troupe/testing';
import { Client } from 'pg';
import { SECRET, SERVICES, startTroupe, type TroupeSystem } from './support/troupe-system';

// Erasing a job's payloads everywhere: `DELETE /v1/jobs/:id/data` and the retention sweep. Each job's
// input carries a unique marker that the local model copies into its output; after erasure no row of
// any service's schema (outbox, reviews, steps, deliveries...) holds it, while status, metadata and
// cost remain. Real processes, broker, database and HTTP.

const PLAIN = `
id: e2e-erase
version: 1
description: A local model whose output repeats the input (so the marker is everywhere).
classification: { kind: rules, defaultLabel: general }
generation: { routes: { default: { model: local/extractive-summary } } }
output: { schema: { type: object } }
`;
const HELD = `
id: e2e-erase-held
version: 1
description: Every output waits for a reviewer.
classification: { kind: rules, defaultLabel: general }
generation: { routes: { default: { model: local/extractive-summary } } }
output: { schema: { type: object } }
review: { when: [{ always: true }] }
`;
const RETAINED = `
id: e2e-erase-retained
version: 1
description: Payloads kept about two seconds.
retention: { days: 0.00003 }
classification: { kind: rules, defaultLabel: general }
generation: { routes: { default: { model: local/extractive-summary } } }
output: { schema: { type: object } }
`;

const SUBMITTER = 'acme-erase-submitter-0123456789';
const ADMIN = 'acme-erase-admin-0123456789';
const OTHER_ADMIN = 'globex-erase-admin-0123456789';

let troupe: TroupeSystem;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let db: Client;

beforeAll(async () => {
  receiver = await startWebhookReceiver(SECRET);
  troupe = await startTroupe({
    label: 'erasure',
    extraWorkflows: { 'e2e-erase.v1.yaml': PLAIN, 'e2e-erase-held.v1.yaml': HELD, 'e2e-erase-retained.v1.yaml': RETAINED },
    env: {
      TROUPE_API_KEYS: `acme:submitter:${SUBMITTER},acme:admin:${ADMIN},globex:admin:${OTHER_ADMIN}`,
      TROUPE_RETENTION_SWEEP_INTERVAL_MS: '500',
    },
  });
  db = new Client({ connectionString: troupe.db.url });
  await db.connect();
});

afterAll(async () => {
  await db.end();
  const codes = await troupe.stop();
  await receiver.close();
  expect(codes).toEqual([0, 0, 0, 0, 0]);
});

/** Rows holding `marker`, per `schema.table`, across every service's schema. */
async function rowsHolding(marker: string): Promise<Record<string, number>> {
  const { rows: tables } = await db.query<{ schema: string; name: string }>(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
      WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE'`,
    [[...SERVICES]],
  );
  const found: Record<string, number> = {};
  for (const t of tables) {
    // Every column as text; bytea (dead-letter bodies) decoded as UTF-8 where it is.
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM "${t.schema}"."${t.name}" r
        WHERE r::text LIKE $1 ${t.name === 'outbox' || t.name === 'dead_letters' ? `OR convert_from(r.value, 'UTF8') LIKE $1` : ''}`,
      [`%${marker}%`],
    );
    if (rows[0].n > 0) found[`${t.schema}.${t.name}`] = rows[0].n;
  }
  return found;
}

/** True once no row holds the marker; otherwise throws naming where it still is (waitFor reports it). */
async function nowhere(marker: string): Promise<boolean> {
  const left = await rowsHolding(marker);
  if (Object.keys(left).length > 0) throw new Error(`still held in ${JSON.stringify(left)}`);
  return true;
}

const call = async (method: string, path: string, key: string) => {
  const response = await troupe.request(path, { method, key });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
};

async function submit(workflow: string, marker: string) {
  const { status, body } = await troupe.submit(
    { workflow, input: { text: `Invoice ${marker} was charged twice. Please refund the second charge of 40 euros.` }, metadata: { order: '42' }, webhook: { url: receiver.url } },
    SUBMITTER,
  );
  expect(status).toBe(202);
  return body.id as string;
}

const finished = (id: string, statuses: string[]) =>
  waitFor(
    async () => {
      const { body } = await call('GET', `/v1/jobs/${id}`, SUBMITTER);
      return statuses.includes(body.status) ? body : undefined;
    },
    { timeoutMs: 60_000, description: `job ${id} to reach ${statuses.join(' or ')}` },
  );

it('given a delivered job, when an admin erases its data, then no service keeps its payloads, and status, metadata and cost remain', async () => {
  const marker = `ERASEME${randomUUID().replace(/-/g, '')}`;
  const id = await submit('e2e-erase', marker);
  const before = await finished(id, ['delivered']);
  expect(JSON.stringify(before.result)).toContain(marker);
  const held = await rowsHolding(marker);
  // Where it was (so the check below can see it): intake, generation and delivery at least.
  expect(Object.keys(held)).toEqual(expect.arrayContaining(['intake.jobs', 'generation.job_runs', 'delivery.deliveries']));

  expect((await call('DELETE', `/v1/jobs/${id}/data`, SUBMITTER)).status).toBe(403);
  const foreign = await call('DELETE', `/v1/jobs/${id}/data`, OTHER_ADMIN);
  expect(foreign).toMatchObject({ status: 404, body: { error: { code: 'JOB_NOT_FOUND' } } });
  const erased = await call('DELETE', `/v1/jobs/${id}/data`, ADMIN);
  expect(erased).toMatchObject({ status: 202, body: { id, status: 'data_erased' } });
  const again = await call('DELETE', `/v1/jobs/${id}/data`, ADMIN);
  expect(again).toMatchObject({ status: 202, body: { erasedAt: erased.body.erasedAt } });

  await waitFor(() => nowhere(marker), {
    timeoutMs: 30_000,
    description: 'every service to erase the payloads',
  });
  const after = (await call('GET', `/v1/jobs/${id}`, SUBMITTER)).body;
  expect(after).toMatchObject({ status: 'delivered', outcome: 'succeeded', metadata: { order: '42' }, dataErasedAt: erased.body.erasedAt });
  expect(after.result).toBeUndefined();
  expect(after.costUsd).toBe(before.costUsd);
  expect(after.timeline.map((e: { summary: string }) => e.summary)).toContainEqual(expect.stringContaining('payloads erased as api:acme:admin'));
  expect(await call('POST', `/v1/jobs/${id}/redeliver`, SUBMITTER)).toMatchObject({ status: 409, body: { error: { code: 'JOB_DATA_ERASED' } } });
});

it('given a job held for review, then its data cannot be erased until it has ended, and once cancelled the review payloads go too', async () => {
  const marker = `ERASEME${randomUUID().replace(/-/g, '')}`;
  const id = await submit('e2e-erase-held', marker);
  await finished(id, ['awaiting_review']);
  await waitFor(async () => (await rowsHolding(marker))['validation.reviews'] === 1, { description: 'the review to hold the output' });
  expect(await call('DELETE', `/v1/jobs/${id}/data`, ADMIN)).toMatchObject({ status: 409, body: { error: { code: 'JOB_NOT_FINISHED' } } });

  expect((await call('POST', `/v1/jobs/${id}/cancel`, SUBMITTER)).status).toBe(202);
  await finished(id, ['cancelled']);
  expect((await call('DELETE', `/v1/jobs/${id}/data`, ADMIN)).status).toBe(202);
  await waitFor(() => nowhere(marker), {
    timeoutMs: 30_000,
    description: 'the review payloads to be erased',
  });
});

it('given a workflow with a retention period, when it passes, then the sweep erases the payloads everywhere and the timeline says so', async () => {
  const marker = `ERASEME${randomUUID().replace(/-/g, '')}`;
  const id = await submit('e2e-erase-retained', marker);
  await finished(id, ['delivered']);
  const job = await waitFor(
    async () => {
      const { body } = await call('GET', `/v1/jobs/${id}`, SUBMITTER);
      // dataErasedAt is set by the sweep at once; the timeline line comes when intake reads the event back.
      const said = body.timeline?.some((e: { summary: string }) => e.summary === 'payloads erased: the retention period passed');
      return body.dataErasedAt && said ? body : undefined;
    },
    { timeoutMs: 30_000, description: 'the retention sweep and its timeline line' },
  );
  expect(job.timeline.map((e: { summary: string }) => e.summary)).toContain('payloads erased: the retention period passed');
  await waitFor(() => nowhere(marker), {
    timeoutMs: 30_000,
    description: 'every service to erase the payloads',
  });
});
