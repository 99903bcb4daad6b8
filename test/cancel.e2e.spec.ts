import {
  startFakeModelProvider,
  startWebhookReceiver,
  waitFor,
  type FakeModelProvider,
} from '@troupe/testing';
import { ADMIN_KEY, SECRET, startTroupe, type TroupeSystem } from './support/troupe-system';

// Cancelling jobs wherever they are: before classification, while a model call is in flight,
// while awaiting review, and after delivery (too late). Real processes, broker, database and HTTP.

const SLOW = `
id: e2e-slow
version: 1
description: One remote model step, answered (or not) by the fake provider.
classification: { kind: rules, defaultLabel: general }
steps:
  - { id: answer, kind: model, model: openai/gpt-4o-mini, instructions: Answer. }
output: { schema: { type: object } }
`;

const HELD = `
id: e2e-held
version: 1
description: Every result waits for a reviewer.
classification: { kind: rules, defaultLabel: general }
generation: { routes: { default: { model: local/extractive-summary } } }
output: { schema: { type: object } }
review: { when: [{ always: true }] }
`;

let troupe: TroupeSystem;
let fake: FakeModelProvider;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

beforeAll(async () => {
  fake = await startFakeModelProvider((request) => {
    const body = JSON.stringify(request.body);
    if (body.includes('hangs')) return { hang: true };
    // Racing jobs answer after a random pause, so their cancels land at every stage.
    if (body.includes('race'))
      return { content: { answer: 'raced' }, latencyMs: Math.floor(Math.random() * 40) };
    return { content: { answer: 'quick' } };
  });
  receiver = await startWebhookReceiver(SECRET);
  troupe = await startTroupe({
    label: 'cancel',
    extraWorkflows: { 'e2e-slow.v1.yaml': SLOW, 'e2e-held.v1.yaml': HELD },
    env: {
      TROUPE_API_KEYS: `acme:submitter:${'acme-e2e-key-0123456789'},acme:reviewer:acme-reviewer-key-0123456789,ops:admin:${ADMIN_KEY}`,
      TROUPE_OPENAI_BASE_URL: fake.openaiBaseUrl,
      TROUPE_OPENAI_API_KEY: 'sk-e2e-cancel',
    },
  });
});

afterAll(async () => {
  const codes = await troupe.stop();
  await receiver.close();
  await fake.close();
  expect(codes).toEqual([0, 0, 0, 0, 0]);
});

const cancel = async (id: string, key?: string, body: unknown = { reason: 'no longer needed' }) => {
  const response = await troupe.request(`/v1/jobs/${id}/cancel`, {
    method: 'POST',
    body: JSON.stringify(body),
    key,
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
};
const status = (id: string, wanted: string) =>
  waitFor(
    async () => {
      const { body } = await troupe.job(id);
      return body.status === wanted ? body : undefined;
    },
    { timeoutMs: 60_000, description: `job ${id} to be ${wanted}` },
  );
const notification = (id: string) =>
  waitFor(() => receiver.received.find((w) => w.payload?.data.jobId === id), {
    description: `the webhook of ${id}`,
  });
/** How many events a stage dropped because their job was cancelled (its consumer's metric). */
async function droppedBy(service: string): Promise<number> {
  const text = await (await fetch(`${troupe.services.get(service)!.url}/metrics`)).text();
  return [
    ...text.matchAll(/^troupe_consumer_messages_total\{[^}]*outcome="cancelled"[^}]*\} (\d+)/gm),
  ].reduce((n, m) => n + Number(m[1]), 0);
}

describe('cancelling a job', () => {
  it('given a job not yet classified, when cancelled, then it ends cancelled, its target gets job.cancelled, and no stage works on it afterwards', async () => {
    await troupe.services.get('classification')!.stop();
    let jobId = '';
    try {
      const { body } = await troupe.submit({
        workflow: 'support-ticket-reply',
        input: { text: 'Where is my invoice?' },
        webhook: { url: receiver.url },
      });
      jobId = body.id;
      const first = await cancel(body.id);
      expect(first).toMatchObject({
        status: 202,
        body: { id: body.id, status: 'cancel_requested', links: { self: `/v1/jobs/${body.id}` } },
      });
      const job = await status(body.id, 'cancelled');
      expect(job).toMatchObject({ outcome: 'cancelled' });
      expect(job.result).toBeUndefined();
      const webhook = await notification(body.id);
      expect(webhook).toMatchObject({
        verified: true,
        payload: {
          type: 'job.cancelled',
          data: {
            status: 'cancelled',
            cancellation: { requestedBy: 'api:acme:submitter', reason: 'no longer needed' },
          },
        },
      });
      // Repeating the cancel changes nothing.
      const again = await cancel(body.id);
      expect(again).toMatchObject({
        status: 202,
        body: { status: 'cancelled', requestedAt: first.body.requestedAt },
      });
    } finally {
      await troupe.restart('classification');
    }
    // Back up, classification reads the job.requested and the cancel request (two topics, in either
    // order): it drops the job, or generation drops what it classified. Nothing is generated.
    await waitFor(async () => (await droppedBy('classification')) + (await droppedBy('generation')) >= 1, {
      description: 'a stage to drop the cancelled job',
    });
    const listed = (await (await troupe.request('/v1/jobs?status=cancelled')).json()) as {
      items: { id: string }[];
    };
    expect(listed.items.map((j) => j.id)).toContain(jobId);
    const { body } = await troupe.job(jobId);
    expect(body.status).toBe('cancelled');
    expect(body.timeline.map((e: { type: string }) => e.type)).not.toContain('troupe.job.generated.v1');
  });

  it('given a model call in flight, when the job is cancelled, then the call is aborted at the provider and nothing is generated', async () => {
    const { body } = await troupe.submit({
      workflow: 'e2e-slow',
      input: { text: 'This one hangs forever.' },
      webhook: { url: receiver.url },
    });
    const call = await waitFor(() => fake.requests.find((r) => JSON.stringify(r.body).includes('hangs')), {
      description: 'the model call',
    });
    expect((await cancel(body.id)).status).toBe(202);
    await waitFor(() => call.abortedAt !== undefined, { description: 'the call to be aborted' });
    const job = await status(body.id, 'cancelled');
    expect(job.timeline.map((e: { type: string }) => e.type)).not.toContain('troupe.job.generated.v1');
    expect((await notification(body.id)).payload?.type).toBe('job.cancelled');
  });

  it('given a job awaiting review, when cancelled, then the review is closed, a decision is refused, and no result is delivered', async () => {
    const { body } = await troupe.submit({
      workflow: 'e2e-held',
      input: { text: 'The quarterly report shows growth. Revenue rose by ten percent.' },
      webhook: { url: receiver.url },
    });
    await status(body.id, 'awaiting_review');
    const reviewerKey = 'acme-reviewer-key-0123456789';
    const list = (await (
      await troupe.request(`/v1/reviews?job=${body.id}`, { key: reviewerKey })
    ).json()) as { items: { id: string }[] };
    const reviewId = list.items[0].id;
    expect((await cancel(body.id)).status).toBe(202);
    await status(body.id, 'cancelled');
    const review = await waitFor(async () => {
      const r = (await (await troupe.request(`/v1/reviews/${reviewId}`, { key: reviewerKey })).json()) as {
        status: string;
      };
      return r.status === 'cancelled' ? r : undefined;
    });
    expect(review.status).toBe('cancelled');
    const decision = await troupe.request(`/v1/reviews/${reviewId}/decision`, {
      method: 'POST',
      key: reviewerKey,
      body: JSON.stringify({ decision: 'approve' }),
    });
    expect(decision.status).toBe(409);
    expect(await decision.json()).toMatchObject({ error: { code: 'REVIEW_ALREADY_RESOLVED' } });
    const webhook = await notification(body.id);
    expect(webhook.payload?.type).toBe('job.cancelled');
    expect(receiver.received.filter((w) => w.payload?.data.jobId === body.id)).toHaveLength(1);
  });

  it('given a delivered job, when cancelled, then 409 JOB_ALREADY_FINISHED; another tenant gets 404; a bad body gets 400', async () => {
    const { body } = await troupe.submit({ workflow: 'e2e-slow', input: { text: 'Answer quickly.' } });
    await status(body.id, 'delivered');
    const late = await cancel(body.id);
    expect(late).toMatchObject({
      status: 409,
      body: { error: { code: 'JOB_ALREADY_FINISHED', message: expect.stringMatching(/is delivered/) } },
    });
    expect((await troupe.job(body.id)).body.status).toBe('delivered');
    expect((await cancel(body.id, ADMIN_KEY)).status).toBe(404);
    expect((await cancel('not-a-uuid')).status).toBe(404);
    const bad = await cancel(body.id, undefined, { reason: 'x'.repeat(501) });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    // The OpenAPI document describes the route and the new status.
    const doc = (await (await fetch(`${troupe.api}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
      components: { schemas: { Job: { properties: { status: { enum: string[] } } } } };
    };
    expect(Object.keys(doc.paths)).toContain('/v1/jobs/{id}/cancel');
    expect(doc.components.schemas.Job.properties.status.enum).toContain('cancelled');
  });

  it('given cancels racing outcomes on many jobs, then each job either delivers its result or is cancelled, never both', async () => {
    const ids = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const { body } = await troupe.submit({
          workflow: 'e2e-slow',
          input: { text: `race ${i}` },
          webhook: { url: receiver.url },
        });
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 400)));
        const answer = await cancel(body.id);
        expect([202, 409]).toContain(answer.status);
        return body.id as string;
      }),
    );
    const ends = await waitFor(
      async () => {
        const jobs = await Promise.all(ids.map(async (id) => (await troupe.job(id)).body));
        // Read models follow topics independently: a delivered job's outcome may land a moment later.
        const settled = jobs.every(
          (j) => j.status === 'cancelled' || (j.status === 'delivered' && j.outcome !== null),
        );
        const notified = ids.every((id) => receiver.received.some((w) => w.payload?.data.jobId === id));
        return settled && notified ? jobs : undefined;
      },
      { timeoutMs: 90_000, description: 'every racing job to end and its target to hear of it' },
    );
    for (const job of ends) {
      const webhooks = receiver.received
        .filter((w) => w.payload?.data.jobId === job.id)
        .map((w) => w.payload!.type);
      if (job.status === 'cancelled') {
        expect([job.id, job.outcome, job.result, [...new Set(webhooks)]]).toEqual([
          job.id,
          'cancelled',
          undefined,
          ['job.cancelled'],
        ]);
      } else {
        expect([job.id, job.outcome, [...new Set(webhooks)]]).toEqual([
          job.id,
          'succeeded',
          ['job.completed'],
        ]);
      }
    }
    // Both endings happened, or the race was not a race.
    expect(new Set(ends.map((j) => j.status))).toEqual(new Set(['delivered', 'cancelled']));
  });
});
