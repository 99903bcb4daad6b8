import { randomUUID } from 'node:crypto';
import { JOB_DELIVERED_V1 } from '@troupe/contracts';
import { createTestDatabase, freePort, ServiceProcess, waitFor } from '@troupe/testing';
import { Client } from 'pg';

// The read model's held events: one whose predecessor never comes is applied after
// TROUPE_READ_MODEL_HOLD_MS, so a job's timeline never waits for ever. Intake as a process, real PostgreSQL.

const KEY = 'acme-submitter-key-0123456789';
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pg: Client;
let intake: ServiceProcess;

beforeAll(async () => {
  db = await createTestDatabase('held');
  intake = new ServiceProcess('intake', await freePort(), {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    TROUPE_API_KEYS: `acme:submitter:${KEY}`,
    TROUPE_LOG_LEVEL: 'error',
    TROUPE_READ_MODEL_HOLD_MS: '1000',
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

it('given a job.delivered held for a job.validated that never came, when the hold passes, then it is applied and the timeline shows it', async () => {
  const response = await fetch(`${intake.url}/v1/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ workflow: 'support-ticket-reply', input: { text: 'Where is my refund?' } }),
  });
  expect(response.status).toBe(202);
  const { id } = (await response.json()) as { id: string };
  const eventId = randomUUID();
  await pg.query(
    `INSERT INTO intake.held_job_events (event_id, job_id, type, source, time, projection, held_at)
     VALUES ($1, $2, $3, 'troupe.delivery', $4, $5, now() - interval '5 seconds')`,
    [eventId, id, JOB_DELIVERED_V1, new Date().toISOString(), JSON.stringify({ status: 'delivered', rank: 5, summary: 'delivered to webhook after 1 attempt(s)' })],
  );
  const job = await waitFor(
    async () => {
      const { rows } = await pg.query(`SELECT status FROM intake.jobs WHERE id = $1 AND status = 'delivered'`, [id]);
      return rows[0];
    },
    { timeoutMs: 15_000, description: 'the held event to be applied' },
  );
  expect(job.status).toBe('delivered');
  const { rows: timeline } = await pg.query(`SELECT type, summary FROM intake.job_events WHERE job_id = $1 ORDER BY time`, [id]);
  expect(timeline.map((t) => t.type)).toContain(JOB_DELIVERED_V1);
  const { rows: left } = await pg.query(`SELECT 1 FROM intake.held_job_events WHERE job_id = $1`, [id]);
  expect(left).toEqual([]);
});
