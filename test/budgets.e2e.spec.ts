import { createHash, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { ModelCatalogue } from '@troupe/models';
import { TOPICS } from '@troupe/contracts';
import { freePort, readTopicUntil, ServiceProcess, testKafka, startFakeModelProvider, startWebhookReceiver, waitFor, type FakeModelProvider, type FakeReply, type FakeRequest } from '@troupe/testing';
import { Client } from 'pg';
import { ACME_KEY, ADMIN_KEY, SECRET, startTroupe, type TroupeSystem } from './support/troupe-system';

// True cost and the budget saga through the real pipeline: five service processes (and a second
// intake), a real broker and PostgreSQL, remote models played by a fake speaking their wire formats.

const ACME_ADMIN = 'acme-e2e-admin-key-0123456789';
const PLATFORM_KEY = 'platform-e2e-key-0123456789';

/** Two model steps, the first a fallback plan, and a repair loop that runs the second again. */
const COSTED = `
id: e2e-costed
version: 1
description: A fallback, two steps and a regeneration.
classification: { kind: rules, defaultLabel: document }
steps:
  - id: extract
    kind: model
    strategy: fallback
    models: [openai/gpt-4o-mini, openai/gpt-4o]
    instructions: Extract the total.
    output: { schema: { type: object, required: [total], properties: { total: { type: number } } } }
  - id: summarise
    kind: model
    needs: [extract]
    model: anthropic/claude-3-5-haiku
    instructions: Summarise the document, given its total.
    input: { text: $input.text, total: $steps.extract.output.total }
output:
  from: { total: $steps.extract.output.total, summary: $steps.summarise.output.text }
  schema:
    type: object
    required: [total, summary]
    properties: { summary: { type: string, minLength: 12 } }
validation: { repair: { maxAttempts: 2 } }
`;

/** One priced model call per job: what the concurrency and crash tests reserve for. */
const SIMPLE = `
id: e2e-simple
version: 1
description: One model call.
classification: { kind: rules, defaultLabel: note }
objectives: { delivered: 0.99, latencyP95Ms: 30000 }
generation:
  routes:
    default: { model: openai/gpt-4o-mini, instructions: Summarise. }
output: { schema: { type: object } }
`;

/** A fallback plan whose first model may report a huge usage. */
const HUGE = `
id: e2e-huge
version: 1
description: A fallback whose first answer is billed enormously.
classification: { kind: rules, defaultLabel: note }
generation:
  routes:
    default:
      strategy: fallback
      models: [openai/gpt-4o-mini, openai/gpt-4o]
      instructions: Summarise.
output: { schema: { type: object } }
`;

let troupe: TroupeSystem;
let fake: FakeModelProvider;
let db: Client;
const catalogue = ModelCatalogue.load(resolve(__dirname, '../config/models.yaml'), {});
/** Per-test behaviour of the fake, keyed by a marker word in the job's input. */
const behaviour = new Map<string, (request: FakeRequest, seen: number) => FakeReply | undefined>();
/** What the fake billed per request index (its usage × the catalogue's price). */
const billed = new Map<number, { marker: string; costPico: number }>();

const priceOf = (model: string) => [...catalogue.models.values()].find((m) => m.model === model)!.price;
const requestsFor = (marker: string) => fake.requests.filter((r) => JSON.stringify(r.body).includes(marker));

beforeAll(async () => {
  fake = await startFakeModelProvider((request) => {
    for (const [marker, reply] of behaviour) {
      if (!JSON.stringify(request.body).includes(marker)) continue;
      const seen = requestsFor(marker).filter((r) => r.model === request.model && r.index < request.index).length;
      const answer = reply(request, seen) ?? {};
      const usage = answer.usage === undefined ? { inputTokens: 10, outputTokens: 5 } : answer.usage;
      const ok = (answer.status ?? 200) < 300;
      if (ok && usage) {
        const p = priceOf(request.model);
        billed.set(request.index, {
          marker,
          costPico: usage.inputTokens * Math.round(p.inputPerMTok * 1e6) + usage.outputTokens * Math.round(p.outputPerMTok * 1e6),
        });
      }
      return answer;
    }
    return {};
  });
  troupe = await startTroupe({
    label: 'budgets',
    extraWorkflows: { 'e2e-costed.v1.yaml': COSTED, 'e2e-simple.v1.yaml': SIMPLE, 'e2e-huge.v1.yaml': HUGE },
    env: {
      TROUPE_API_KEYS: `acme:submitter:${ACME_KEY},acme:admin:${ACME_ADMIN},ops:admin:${ADMIN_KEY},platform:platform:${PLATFORM_KEY}`,
      TROUPE_OPENAI_BASE_URL: fake.openaiBaseUrl,
      TROUPE_OPENAI_API_KEY: 'sk-e2e-budgets-openai',
      TROUPE_ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
      TROUPE_ANTHROPIC_API_KEY: 'sk-ant-e2e-budgets',
      TROUPE_MODEL_RETRY_BASE_MS: '20',
      TROUPE_MODEL_MAX_ATTEMPTS: '2',
    },
  });
  db = new Client({ connectionString: troupe.db.url });
  await db.connect();
  await db.query('SET search_path TO intake');
});

afterAll(async () => {
  await db.end();
  const codes = await troupe.stop();
  await fake.close();
  expect(codes).toEqual([0, 0, 0, 0, 0]);
});

async function finished(id: string, statuses = ['delivered', 'failed', 'rejected', 'delivery_failed']) {
  let last: unknown;
  return waitFor(
    async () => {
      const { body } = await troupe.job(id);
      last = body;
      return statuses.includes(body.status) && body.outcome !== null && body.cost?.settled ? body : undefined;
    },
    { timeoutMs: 60_000, description: `job ${id} to finish and settle` },
  ).catch(async (error: Error) => {
    const { rows } = await db.query(`SELECT cost_usd, expected_cost_usd, ended_at, settled_at FROM jobs WHERE id = $1`, [id]);
    throw new Error(`${error.message}; ledger state ${JSON.stringify(rows[0])}; the job: ${JSON.stringify(last)}`);
  });
}

async function createBudget(body: Record<string, unknown>) {
  const response = await troupe.request('/v1/admin/budgets', { method: 'POST', body: JSON.stringify(body), key: ACME_ADMIN });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; current: Record<string, number> };
}
async function budget(id: string) {
  const response = await troupe.request(`/v1/admin/budgets/${id}`, { key: ACME_ADMIN });
  return (await response.json()) as { current: { spentUsd: number; reservedUsd: number; remainingUsd: number; thresholdsCrossed: number[] } };
}
const removeBudget = (id: string) => troupe.request(`/v1/admin/budgets/${id}`, { method: 'DELETE', key: ACME_ADMIN });

/** The ledger's invariants, in SQL: reserved is what open reservations still hold, spent is every cost charged. */
async function ledgerOf(budgetId: string) {
  const { rows } = await db.query(
    `SELECT p.spent_usd::text AS spent, p.reserved_usd::text AS reserved, b.limit_usd::text AS limit,
            (SELECT count(*) FROM budget_reservations r WHERE r.budget_id = b.id)::int AS reservations,
            (SELECT count(*) FROM budget_reservations r WHERE r.budget_id = b.id AND r.released_at IS NULL)::int AS open,
            (SELECT COALESCE(sum(c.cost_usd), 0)::text FROM job_costs c JOIN budget_reservations r ON r.job_id = c.job_id WHERE r.budget_id = b.id) AS ledger
       FROM budgets b JOIN budget_periods p ON p.budget_id = b.id WHERE b.id = $1`,
    [budgetId],
  );
  return rows[0] as { spent: string; reserved: string; limit: string; reservations: number; open: number; ledger: string };
}

describe('true cost', () => {
  it('given a fallback, a regeneration and two steps, then the job cost is the sum of the fake provider usage × catalogue prices, per call, step and model', async () => {
    behaviour.set('costone', (r, seen) => {
      if (r.model === 'gpt-4o-mini') return { status: 503, errorMessage: 'overloaded' };
      if (r.model === 'gpt-4o') return { content: { total: 1250 }, usage: { inputTokens: 120, outputTokens: 30 } };
      // The first summary is too short for the output schema: validation asks for a regeneration.
      return seen === 0
        ? { content: { text: 'Too short' }, usage: { inputTokens: 200, outputTokens: 11 } }
        : { content: { text: 'An invoice for 1250 euros (costone).' }, usage: { inputTokens: 230, outputTokens: 40 } };
    });
    const { status, body } = await troupe.submit({ workflow: 'e2e-costed', input: { text: 'Invoice costone: total due EUR 1,250.' } });
    expect(status).toBe(202);
    const job = await finished(body.id);
    expect(job.status).toBe('delivered');
    const requests = requestsFor('costone');
    // mini tried twice (503), gpt-4o once, haiku twice (run 1 and the regeneration's run 2).
    expect(requests.map((r) => r.model)).toEqual(['gpt-4o-mini', 'gpt-4o-mini', 'gpt-4o', 'claude-3-5-haiku-latest', 'claude-3-5-haiku-latest']);
    const expectedPico = requests.reduce((n, r) => n + (billed.get(r.index)?.costPico ?? 0), 0);
    expect(expectedPico).toBe(120 * 2_500_000 + 30 * 10_000_000 + 200 * 800_000 + 11 * 4_000_000 + 230 * 800_000 + 40 * 4_000_000);
    expect(Math.round(job.cost.totalUsd * 1e12)).toBe(expectedPico);
    expect(Math.round(job.costUsd * 1e12)).toBe(expectedPico);
    expect(job.cost.calls.map((c: any) => [c.step, c.stepRun, c.model, c.try, c.outcome])).toEqual([
      ['extract', 1, 'openai/gpt-4o-mini', 1, 'failed'],
      ['extract', 1, 'openai/gpt-4o-mini', 2, 'failed'],
      ['extract', 1, 'openai/gpt-4o', 1, 'succeeded'],
      ['summarise', 1, 'anthropic/claude-3-5-haiku', 1, 'succeeded'],
      ['summarise', 2, 'anthropic/claude-3-5-haiku', 1, 'succeeded'],
    ]);
    expect(Math.round(job.cost.byStep.extract.costUsd * 1e12)).toBe(120 * 2_500_000 + 30 * 10_000_000);
    expect(job.cost.byStep.summarise).toMatchObject({ calls: 2, inputTokens: 430, outputTokens: 51 });
    expect(job.cost.byModel['openai/gpt-4o-mini']).toMatchObject({ calls: 2, costUsd: 0 });
    const costLines = (job.timeline as { type: string; summary: string }[]).filter((e) => e.type === 'troupe.job.cost-recorded.v1');
    expect(costLines.length).toBeGreaterThanOrEqual(2);
    expect(costLines[0].summary).toMatch(/model call\(s\) by generation cost \$/);
  });

  it('given a job that fails, then it shows what its calls cost (a malformed answer is billed)', async () => {
    behaviour.set('costtwo', (r) =>
      r.model === 'gpt-4o-mini'
        ? { malformed: 'content', usage: { inputTokens: 300, outputTokens: 20 } }
        : { status: 400, errorMessage: 'bad request' },
    );
    const { body } = await troupe.submit({ workflow: 'e2e-costed', input: { text: 'Invoice costtwo: total due EUR 99.' } });
    const job = await finished(body.id, ['failed', 'delivery_failed']);
    expect(job.status).toBe('failed');
    const billedPico = requestsFor('costtwo').reduce((n, r) => n + (r.model === 'gpt-4o-mini' ? 300 * 150_000 + 20 * 600_000 : 0), 0);
    expect(billedPico).toBeGreaterThan(0);
    expect(Math.round(job.cost.totalUsd * 1e12)).toBe(billedPico);
    expect(job.cost.calls.filter((c: any) => c.outcome === 'failed').length).toBe(job.cost.calls.length);
  });
});

describe('budgets', () => {
  it('given a budget with nothing left, when a job is submitted, then it is refused at once with 402 BUDGET_EXCEEDED and nothing is created', async () => {
    const b = await createBudget({ name: 'empty', workflowId: 'e2e-simple', period: 'month', limitUsd: 0 });
    const before = await db.query(`SELECT count(*)::int AS n FROM jobs`);
    const response = await troupe.request('/v1/jobs', { method: 'POST', body: JSON.stringify({ workflow: 'e2e-simple', input: { text: 'refused nothing left' } }) });
    expect(response.status).toBe(402);
    const { error } = (await response.json()) as { error: any };
    expect(error).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      budget: { budget: { id: b.id, name: 'empty', workflowId: 'e2e-simple', period: 'month' }, limitUsd: 0, remainingUsd: 0 },
    });
    expect(error.budget.requiredUsd).toBeGreaterThan(0);
    expect(Date.parse(error.budget.resetsAt)).toBeGreaterThan(Date.now());
    expect((await db.query(`SELECT count(*)::int AS n FROM jobs`)).rows[0].n).toBe(before.rows[0].n);
    expect((await db.query(`SELECT count(*)::int AS n FROM budget_reservations WHERE budget_id = $1`, [b.id])).rows[0].n).toBe(0);
    // Another workflow is not narrowed by it.
    expect((await troupe.submit({ workflow: 'e2e-costed', input: { text: 'not narrowed costthree' } })).status).toBe(202);
    expect((await removeBudget(b.id)).status).toBe(204);
  });

  it('given a provider that reports a huge usage, then generation stops before the call that would pass the reservation, and the job fails BUDGET_EXCEEDED', async () => {
    const b = await createBudget({ name: 'huge', workflowId: 'e2e-huge', period: 'day', limitUsd: 100 });
    behaviour.set('hugeone', (r) =>
      // Billed for 5 million tokens, and malformed: the fallback would move on to gpt-4o.
      r.model === 'gpt-4o-mini' ? { malformed: 'content', usage: { inputTokens: 5_000_000, outputTokens: 0 } } : { content: { summary: 'never' } },
    );
    const { body } = await troupe.submit({ workflow: 'e2e-huge', input: { text: 'hugeone text' } });
    const job = await finished(body.id, ['failed', 'delivery_failed']);
    expect(job.errors[0].code).toBe('BUDGET_EXCEEDED');
    expect(job.errors[0].message).toMatch(/budget reservation has \$0\.000000 left/);
    // The call that would have overspent was not made.
    expect(requestsFor('hugeone').map((r) => r.model)).toEqual(['gpt-4o-mini']);
    expect(job.cost.calls.map((c: any) => [c.model, c.errorKind])).toEqual([
      ['openai/gpt-4o-mini', 'MALFORMED_OUTPUT'],
      ['openai/gpt-4o', 'BUDGET_EXCEEDED'],
    ]);
    const ledger = await ledgerOf(b.id);
    expect(ledger).toMatchObject({ reserved: '0.000000000000', open: 0, reservations: 1 });
    expect(Number(ledger.spent)).toBeCloseTo(0.75, 12);
    await removeBudget(b.id);
  });

  it('given thresholds at 50 % and 100 % and an alert webhook, then each fires once per period as budget.threshold-crossed and one signed webhook, even when the event is delivered again', async () => {
    const alerts = await startWebhookReceiver(SECRET);
    const b = await createBudget({ name: 'alerts', workflowId: 'e2e-simple', period: 'none', limitUsd: 1, thresholds: [0.5, 1], alertWebhook: { url: alerts.url } });
    // Each job is billed $0.30 (2 million input tokens at $0.15): spent 0.3, 0.6 (50 % crossed), 0.9, 1.2 (100 % crossed).
    behaviour.set('alertone', () => ({ content: { summary: 'ok' }, usage: { inputTokens: 2_000_000, outputTokens: 0 } }));
    for (let i = 0; i < 4; i++) {
      const { status, body } = await troupe.submit({ workflow: 'e2e-simple', input: { text: `alertone job ${i}` } });
      expect(status).toBe(202);
      await finished(body.id);
    }
    const messages = await readTopicUntil('troupe.budget.threshold-crossed', (m) => m.filter((x) => x.value!.toString().includes(b.id)).length >= 2);
    const mine = messages.map((m) => JSON.parse(m.value!.toString())).filter((e) => e.budget.id === b.id);
    expect(mine.map((e) => [e.threshold, e.spentUsd])).toEqual([
      [0.5, 0.6],
      [1, 1.2],
    ]);
    expect((await budget(b.id)).current.thresholdsCrossed).toEqual([0.5, 1]);
    // Spent is past the limit now (the 4th job was billed more than its reservation): the next job is refused.
    expect((await troupe.submit({ workflow: 'e2e-simple', input: { text: 'alertone job 4' } })).status).toBe(402);

    // The alert target: one signed webhook per crossing, its id naming the crossing.
    const crossings = messages.filter((m) => JSON.parse(m.value!.toString()).budget.id === b.id);
    const periodStart = mine[0].periodStart as string;
    await waitFor(() => alerts.received.length >= 2, { description: 'both budget alert webhooks' });
    // The same crossings published again as new events (a producer retry past the inbox), then a
    // sentinel crossing of another budget behind them on the topic's one partition.
    const sentinel = `sentinel-${randomUUID()}`;
    const producer = testKafka('troupe-test-budget-alerts').producer();
    await producer.connect();
    await producer.send({
      topic: 'troupe.budget.threshold-crossed',
      messages: [
        ...crossings.map((m) => ({ key: m.key, value: m.value, headers: { ...m.headers, ce_id: randomUUID() } })),
        {
          key: crossings[0].key,
          value: JSON.stringify({ ...mine[0], budget: { ...mine[0].budget, id: sentinel } }),
          headers: { ...crossings[0].headers, ce_id: randomUUID() },
        },
      ],
    });
    await producer.disconnect();
    await waitFor(() => alerts.received.some((r) => r.webhookId.startsWith(`budget:${sentinel}:`)), { description: 'the sentinel alert' });
    const received = alerts.received.filter((r) => r.webhookId.startsWith(`budget:${b.id}:`));
    expect(received.map((r) => r.webhookId).sort()).toEqual([`budget:${b.id}:${periodStart}:0.5`, `budget:${b.id}:${periodStart}:1`]);
    expect(received.every((r) => r.verified)).toBe(true);
    expect(received.map((r) => r.payload).sort((x: any, y: any) => x.data.threshold - y.data.threshold)).toMatchObject([
      { type: 'budget.threshold-crossed', data: { budget: { id: b.id, name: 'alerts' }, threshold: 0.5, spentUsd: 0.6, limitUsd: 1 } },
      { type: 'budget.threshold-crossed', data: { budget: { id: b.id }, threshold: 1, spentUsd: 1.2 } },
    ]);
    expect(JSON.stringify(received.map((r) => r.payload))).not.toContain('alertWebhook'); // the target is not echoed
    await alerts.close();
    await removeBudget(b.id);
  });
});

describe('the budget cannot be overspent', () => {
  it('given a budget that fits exactly N reservations, when 20 × N jobs are submitted at once across two intake processes, then exactly N are accepted, and after they end spent <= limit and reserved = 0', async () => {
    const N = 5;
    // The bound of one job (the same text length for all): reserved by a probe job under a large budget.
    const probe = await createBudget({ name: 'probe', workflowId: 'e2e-simple', period: 'none', limitUsd: 100 });
    const text = (i: number) => `concurrent job ${String(i).padStart(4, '0')}`;
    // The model answers these after 3 s: no job of the burst may finish, and release its reservation
    // for another, while the burst is still being admitted (the bound is on what is in flight).
    behaviour.set('concurrent job', () => ({ latencyMs: 3_000 }));
    const probed = await troupe.submit({ workflow: 'e2e-simple', input: { text: text(9999) } });
    const bound: number = (await finished(probed.body.id)).cost.reservedUsd;
    expect(bound).toBeGreaterThan(0);
    await removeBudget(probe.id);
    const limit = Math.round(bound * N * 1e12) / 1e12;
    const b = await createBudget({ name: 'exact', workflowId: 'e2e-simple', period: 'none', limitUsd: limit });

    const second = new ServiceProcess('intake', await freePort(), troupe.env);
    await second.start();
    try {
      const urls = [troupe.api, second.url];
      const started = Date.now();
      const responses = await Promise.all(
        Array.from({ length: 20 * N }, (_, i) =>
          fetch(`${urls[i % 2]}/v1/jobs`, {
            method: 'POST',
            headers: { authorization: `Bearer ${ACME_KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify({ workflow: 'e2e-simple', input: { text: text(i) } }),
          }).then(async (r) => ({ status: r.status, body: (await r.json()) as any })),
        ),
      );
      const accepted = responses.filter((r) => r.status === 202);
      const refused = responses.filter((r) => r.status === 402);
      process.stdout.write(
        `concurrency: N=${N}, ${responses.length} submissions over 2 intakes in ${Date.now() - started} ms: ${accepted.length} accepted, ${refused.length} BUDGET_EXCEEDED, ` +
          `others ${responses.length - accepted.length - refused.length}; bound $${bound}, limit $${limit}\n`,
      );
      expect(accepted.length).toBe(N);
      expect(refused.length).toBe(19 * N);
      expect(refused.every((r) => r.body.error.code === 'BUDGET_EXCEEDED')).toBe(true);
      for (const a of accepted) await finished(a.body.id);
      const ledger = await ledgerOf(b.id);
      process.stdout.write(`concurrency: after all ended: limit $${ledger.limit}, spent $${ledger.spent}, reserved $${ledger.reserved}, reservations ${ledger.reservations}, open ${ledger.open}, ledger $${ledger.ledger}\n`);
      expect(ledger.reserved).toBe('0.000000000000');
      expect(ledger.open).toBe(0);
      expect(ledger.reservations).toBe(N);
      expect(Number(ledger.spent)).toBeLessThanOrEqual(Number(ledger.limit));
      expect(ledger.spent).toBe(ledger.ledger);
    } finally {
      expect(await second.stop()).toBe(0);
      await removeBudget(b.id);
    }
  });
});

describe('settlement is exactly once', () => {
  it('given intake killed with SIGKILL while jobs end, and terminal events delivered again, then every reservation is settled once and the ledger balances', async () => {
    const b = await createBudget({ name: 'crash', workflowId: 'e2e-simple', period: 'day', limitUsd: 100 });
    behaviour.set('crashone', () => ({ content: { summary: 'ok' }, latencyMs: 300, usage: { inputTokens: 1000, outputTokens: 100 } }));
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await troupe.submit({ workflow: 'e2e-simple', input: { text: `crashone ${i}` } })).body.id);
    // Kill intake while the jobs run and end: their terminal events wait for the restarted intake to settle them.
    await waitFor(async () => (requestsFor('crashone').some((r) => r.answeredAt) ? true : undefined), { timeoutMs: 30_000, description: 'a first answer' });
    await troupe.services.get('intake')!.kill();
    const restarted = new ServiceProcess('intake', troupe.services.get('intake')!.port, troupe.env);
    await restarted.start();
    troupe.services.set('intake', restarted);
    for (const id of ids) await finished(id);

    // Terminal events again, as a stage that crashed before marking them sent publishes them: the same
    // payload under a new event id (the inbox cannot recognise them; the saga must).
    const before = await ledgerOf(b.id);
    const delivered = await readTopicUntil(TOPICS.jobDelivered, (m) => ids.every((id) => m.some((x) => x.key?.toString() === id)));
    const again = delivered.filter((m) => ids.includes(m.key!.toString())).map((m) => ({ ...m, id: randomUUID() }));
    const producer = testKafka('budgets-redeliver').producer();
    await producer.connect();
    await producer.send({
      topic: TOPICS.jobDelivered,
      messages: again.map((m) => ({
        key: m.key,
        value: m.value,
        headers: { ...m.headers, ce_id: m.id },
      })),
    });
    await producer.disconnect();
    await waitFor(
      async () => {
        const { rows } = await db.query(`SELECT count(*)::int AS n FROM job_events WHERE event_id = ANY($1::text[])`, [again.map((m) => m.id)]);
        return rows[0].n === again.length ? true : undefined;
      },
      { timeoutMs: 30_000, description: 'the redelivered events to be consumed' },
    );
    const after = await ledgerOf(b.id);
    expect(after).toEqual(before);
    expect(after).toMatchObject({ reserved: '0.000000000000', open: 0, reservations: ids.length });
    expect(after.spent).toBe(after.ledger);
    expect(Math.round(Number(after.spent) * 1e12)).toBe(ids.length * (1000 * 150_000 + 100 * 600_000));
    await removeBudget(b.id);
  });
});

describe('usage', () => {
  const get = async (query: string, key = ACME_ADMIN) => {
    const response = await troupe.request(`/v1/usage?${query}`, { key });
    return { status: response.status, body: (await response.json()) as any };
  };

  it('given the jobs above, when usage is asked by workflow, model, key and day, then jobs, outcomes, tokens, cost per successful job, latency and SLO attainment come from the ledgers', async () => {
    const { status, body } = await get('groupBy=workflow');
    expect(status).toBe(200);
    expect(body.groupBy).toBe('workflow');
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(30 * 24 * 3600_000);
    const { rows } = await db.query(
      `SELECT workflow_id, count(*)::int AS jobs, count(*) FILTER (WHERE finished_as = 'delivered')::int AS ok,
              count(*) FILTER (WHERE finished_as IN ('failed', 'rejected', 'delivery_failed'))::int AS failed, COALESCE(sum(cost_usd), 0)::text AS cost
         FROM jobs WHERE tenant_id = 'acme' GROUP BY workflow_id ORDER BY workflow_id`,
    );
    expect(body.groups.map((g: any) => [g.key, g.jobs, g.succeeded, g.failed])).toEqual(rows.map((r) => [r.workflow_id, r.jobs, r.ok, r.failed]));
    const costed = body.groups.find((g: any) => g.key === 'e2e-costed');
    const costedRow = rows.find((r) => r.workflow_id === 'e2e-costed')!;
    expect(costed.costUsd).toBeCloseTo(Number(costedRow.cost), 10);
    expect(costed.costPerSuccessfulJobUsd).toBeCloseTo(Number(costedRow.cost) / costedRow.ok, 10);
    expect(costed.tokens.input).toBeGreaterThanOrEqual(120 + 200 + 230 + 300);
    expect(costed.latencyMs.p50).toBeGreaterThan(0);
    expect(costed.latencyMs.p95).toBeGreaterThanOrEqual(costed.latencyMs.p50);
    expect(costed.slo).toBeUndefined();
    const simple = body.groups.find((g: any) => g.key === 'e2e-simple');
    expect(simple.slo).toEqual({
      delivered: { target: 0.99, actual: simple.succeeded / (simple.succeeded + simple.failed), met: simple.failed === 0 },
      latencyP95Ms: { target: 30000, actual: simple.latencyMs.p95, met: simple.latencyMs.p95 <= 30000 },
    });

    const byModel = (await get('groupBy=model')).body.groups;
    expect(byModel.find((g: any) => g.key === 'openai/gpt-4o')).toMatchObject({ tokens: { input: expect.any(Number) } });
    expect(byModel.find((g: any) => g.key === 'anthropic/claude-3-5-haiku')).toMatchObject({ jobs: 1, tokens: { input: 430, output: 51 } });
    const byKey = (await get('groupBy=key')).body.groups;
    const keyId = createHash('sha256').update(ACME_KEY).digest('hex').slice(0, 8);
    expect(byKey.map((g: any) => g.key)).toEqual([keyId]);
    const byDay = (await get('groupBy=day')).body.groups;
    expect(byDay.reduce((n: number, g: any) => n + g.jobs, 0)).toBe(rows.reduce((n, r) => n + r.jobs, 0));
    expect(byDay[byDay.length - 1].key).toBe(new Date().toISOString().slice(0, 10));
  });

  it('given the platform role, then it sees any tenant; other roles see only their own', async () => {
    const mine = (await get('groupBy=workflow')).body.groups;
    const platform = await get('groupBy=workflow&tenant=acme', PLATFORM_KEY);
    expect(platform.status).toBe(200);
    expect(platform.body.groups).toEqual(mine);
    expect((await get('groupBy=workflow&tenant=ops')).status).toBe(403);
    expect((await get('groupBy=workflow', ACME_KEY)).status).toBe(403);
    expect((await get('groupBy=cost')).status).toBe(400);
  });
});
