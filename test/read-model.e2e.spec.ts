import { startWebhookReceiver, waitFor } from '@troupe/testing';
import { Client } from 'pg';
import { SECRET, startTroupe, type TroupeSystem } from './support/troupe-system';

// The job read model under a burst: status, outcome, result and timeline never contradict each
// other, whatever order intake receives the stages' events in (they come from different topics, and
// delivery's webhook is often out before intake has read the job.validated it delivers). It also
// measures how far the read model trails the webhook (printed, not asserted: see docs/reliability.md).

const LOCAL = `
id: e2e-burst
version: 1
description: Local models only, so the burst measures the pipeline rather than a provider.
classification: { kind: rules, defaultLabel: general }
generation: { routes: { default: { model: local/extractive-summary } } }
output: { schema: { type: object } }
`;

const JOBS = 300;
let troupe: TroupeSystem;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let db: Client;

beforeAll(async () => {
  receiver = await startWebhookReceiver(SECRET);
  troupe = await startTroupe({ label: 'readmodel', extraWorkflows: { 'e2e-burst.v1.yaml': LOCAL } });
  db = new Client({ connectionString: troupe.db.url });
  await db.connect();
});

afterAll(async () => {
  await db.end();
  const codes = await troupe.stop();
  await receiver.close();
  expect(codes).toEqual([0, 0, 0, 0, 0]);
});

interface Observed {
  id: string;
  status: string;
  outcome: string | null;
  has_result: boolean;
  types: string[];
}

/** What a status claims the timeline must already hold, and the outcome it implies. */
const IMPLIES: Record<string, { events: string[]; outcome?: string }> = {
  classified: { events: ['job.classified'] },
  generated: { events: ['job.classified', 'job.generated'] },
  validated: { events: ['job.classified', 'job.generated', 'job.validated'], outcome: 'succeeded' },
  delivered: { events: ['job.classified', 'job.generated', 'job.validated', 'job.delivered'], outcome: 'succeeded' },
};

function contradictions(job: Observed): string[] {
  const found: string[] = [];
  const implied = IMPLIES[job.status];
  for (const type of implied?.events ?? []) if (!job.types.includes(type)) found.push(`${job.status} without ${type}`);
  if (implied?.outcome && job.outcome !== implied.outcome) found.push(`${job.status} with outcome ${job.outcome}`);
  if (implied?.outcome === 'succeeded' && !job.has_result) found.push(`${job.status} without a result`);
  if (job.types.some((t) => t.startsWith('job.deliver')) && job.outcome === null) found.push('a delivery event before any outcome');
  return found;
}

it(`given a burst of ${JOBS} jobs, then at every moment each job's status, outcome and timeline agree, and the read model catches up with the webhooks`, async () => {
  const ids: string[] = [];
  const submitted = Promise.all(
    Array.from({ length: JOBS }, async (_, i) => {
      const { status, body } = await troupe.submit({
        workflow: 'e2e-burst',
        input: { text: `Burst ticket ${i}: the invoice for March was charged twice, please refund one of them.` },
        webhook: { url: receiver.url },
      });
      expect(status).toBe(202);
      ids.push(body.id);
    }),
  );

  const violations = new Map<string, string[]>();
  const firstDelivered = new Map<string, number>();
  await submitted;
  // Observe the read model as the API serves it (one statement: one snapshot) until every job shows delivered.
  const watching = waitFor(
    async () => {
      const { rows } = await db.query<Observed>(
        `SELECT j.id, j.status, j.outcome, j.result IS NOT NULL AS has_result,
                COALESCE(array_agg(regexp_replace(e.type, '^troupe\\.(.*)\\.v[0-9]+$', '\\1')) FILTER (WHERE e.type IS NOT NULL), '{}') AS types
           FROM intake.jobs j LEFT JOIN intake.job_events e ON e.job_id = j.id
          WHERE j.id = ANY($1::uuid[]) GROUP BY j.id`,
        [ids],
      );
      const now = Date.now();
      for (const job of rows) {
        const found = contradictions(job);
        if (found.length && !violations.has(job.id)) violations.set(job.id, found);
        if (job.status === 'delivered' && !firstDelivered.has(job.id)) firstDelivered.set(job.id, now);
      }
      return firstDelivered.size === JOBS;
    },
    { timeoutMs: 120_000, intervalMs: 20, description: `all ${JOBS} jobs to show delivered in the read model` },
  );
  await watching.catch(async (error: Error) => {
    const { rows: statuses } = await db.query(`SELECT status, count(*)::int AS n FROM intake.jobs GROUP BY status`);
    const { rows: held } = await db.query(`SELECT type, count(*)::int AS n FROM intake.held_job_events GROUP BY type`);
    throw new Error(`${error.message}\nstatuses: ${JSON.stringify(statuses)}\nheld events: ${JSON.stringify(held)}\nintake:\n${troupe.services.get('intake')!.logs(20)}`);
  });
  expect([...violations.entries()]).toEqual([]);

  // How far the read model trailed the webhook the receiver got.
  const webhookAt = new Map<string, number>();
  for (const w of receiver.received)
    if (w.status < 300 && w.payload && !webhookAt.has(w.payload.data.jobId)) webhookAt.set(w.payload.data.jobId, w.receivedAt);
  expect(webhookAt.size).toBe(JOBS);
  const lags = ids.map((id) => Math.max(0, firstDelivered.get(id)! - webhookAt.get(id)!)).sort((a, b) => a - b);
  const at = (q: number) => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))];
  process.stdout.write(
    `read model behind the webhook, ${JOBS}-job burst: p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${lags[lags.length - 1]} ms\n`,
  );
});
