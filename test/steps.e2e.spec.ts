import {
  startFakeModelProvider,
  startWebhookReceiver,
  waitFor,
  type FakeModelProvider,
  type FakeRequest,
} from '@troupe/testing';
import { SECRET, startTroupe, type TroupeSystem } from './support/troupe-system';

// Workflows as step graphs through the real pipeline: five service processes, a real broker and
// PostgreSQL, remote models played by a fake speaking the OpenAI and Anthropic wire formats.

const CHAIN = `
id: e2e-chain
version: 1
description: Three model steps, each reading the one before.
classification: { kind: rules, defaultLabel: document }
steps:
  - id: extract
    kind: model
    model: openai/gpt-4o-mini
    instructions: Extract the total.
    output: { schema: { type: object, required: [total], properties: { total: { type: number } } } }
  - id: summarise
    kind: model
    needs: [extract]
    model: openai/gpt-4o
    instructions: Summarise the document, given its total.
    input: { text: $input.text, total: $steps.extract.output.total }
  - id: translate
    kind: model
    needs: [summarise]
    model: anthropic/claude-3-5-haiku
    instructions: Translate the summary into French.
    input: { text: $steps.summarise.output.summary }
output:
  from: { total: $steps.extract.output.total, summary: $steps.summarise.output.summary, french: $steps.translate.output.text }
  schema:
    type: object
    required: [total, summary, french]
    properties: { french: { type: string, minLength: 5 } }
validation: { repair: { maxAttempts: 2 } }
`;

const PARALLEL = `
id: e2e-parallel
version: 1
description: Three enrichments at once, merged by a transform.
classification: { kind: rules, defaultLabel: feedback }
steps:
  - { id: sentiment, kind: model, model: openai/gpt-4o-mini, instructions: Rate the sentiment. }
  - { id: entities, kind: model, model: openai/gpt-4o, instructions: List the entities. }
  - { id: summary, kind: model, model: anthropic/claude-3-5-haiku, instructions: Summarise. }
  - id: merged
    kind: transform
    needs: [sentiment, entities, summary]
    expression: '{ "sentiment": $steps.sentiment.output.label, "entities": $steps.entities.output.entities, "summary": $uppercase($steps.summary.output.summary) }'
output: { schema: { type: object, required: [sentiment, entities, summary] } }
`;

const BRANCH = `
id: e2e-branch
version: 1
description: An invoice chain and a complaint chain; the other is skipped.
classification:
  kind: rules
  defaultLabel: other
  rules: [{ label: invoice, keywords: [invoice] }, { label: complaint, keywords: [angry] }]
steps:
  - { id: extract, kind: model, when: "$classification.label = 'invoice'", model: local/field-extractor }
  - { id: approval, kind: transform, needs: [extract], expression: '$steps.extract.output.total > 1000' }
  - { id: mood, kind: model, when: "$classification.label = 'complaint'", model: local/sentiment }
  - id: result
    kind: transform
    needs: [approval, mood]
    expression: '{ "route": $classification.label, "needsApproval": $steps.approval.output, "mood": $steps.mood.output.label }'
output: { schema: { type: object, required: [route] } }
`;

const OPENAI_KEY = 'sk-e2e-steps-openai';
let troupe: TroupeSystem;
let fake: FakeModelProvider;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
/** Per-test behaviour of the fake, keyed by a marker word in the job's input. */
const behaviour = new Map<string, (request: FakeRequest) => Record<string, unknown> | undefined>();

/** The data message of a request (OpenAI: the user message; Anthropic: the first user message). */
const dataOf = (r: FakeRequest): { input: unknown } => {
  const messages = r.body.messages as { role: string; content: string | { text: string }[] }[];
  const user = messages.find((m) => m.role === 'user')!;
  return JSON.parse(
    typeof user.content === 'string' ? user.content : user.content.map((c) => c.text).join(''),
  );
};
const requestsFor = (marker: string, model?: string) =>
  fake.requests.filter((r) => JSON.stringify(r.body).includes(marker) && (!model || r.model === model));

beforeAll(async () => {
  fake = await startFakeModelProvider((request) => {
    for (const [marker, reply] of behaviour)
      if (JSON.stringify(request.body).includes(marker)) return reply(request) ?? {};
    return {};
  });
  receiver = await startWebhookReceiver(SECRET);
  troupe = await startTroupe({
    label: 'steps',
    extraWorkflows: {
      'e2e-chain.v1.yaml': CHAIN,
      'e2e-parallel.v1.yaml': PARALLEL,
      'e2e-branch.v1.yaml': BRANCH,
    },
    env: {
      TROUPE_OPENAI_BASE_URL: fake.openaiBaseUrl,
      TROUPE_OPENAI_API_KEY: OPENAI_KEY,
      TROUPE_ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
      TROUPE_ANTHROPIC_API_KEY: 'sk-ant-e2e-steps',
      TROUPE_MODEL_RETRY_BASE_MS: '20',
      // A killed generation's steps are taken over within seconds.
      TROUPE_STEP_LEASE_MS: '3000',
    },
  });
});

afterAll(async () => {
  const codes = await troupe.stop();
  await receiver.close();
  await fake.close();
  expect(codes).toEqual([0, 0, 0, 0, 0]);
});

const chainAnswers = (marker: string, french = 'Une facture de 1250 euros.') =>
  behaviour.set(marker, (r) => {
    if (r.model === 'gpt-4o-mini') return { content: { total: 1250 } };
    if (r.model === 'gpt-4o') return { content: { summary: `An invoice for 1250 (${marker}).` } };
    return { content: { text: french } };
  });

async function finished(id: string, statuses = ['delivered', 'failed', 'rejected', 'delivery_failed']) {
  return waitFor(
    async () => {
      const { body } = await troupe.job(id);
      // Read models follow topics independently: a delivered job's outcome may land a moment later.
      return statuses.includes(body.status) && body.outcome !== null ? body : undefined;
    },
    { timeoutMs: 60_000, description: `job ${id} to finish` },
  );
}

describe('a chain of three model steps', () => {
  it('given extract → summarise → translate, then each step reads the one before, the output maps all three, and every step is in the timeline', async () => {
    chainAnswers('chainone');
    const { status, body } = await troupe.submit({
      workflow: 'e2e-chain',
      input: { text: 'Invoice chainone: total due EUR 1,250.' },
      webhook: { url: receiver.url },
    });
    expect(status).toBe(202);
    const job = await finished(body.id);
    expect(job).toMatchObject({
      status: 'delivered',
      result: {
        total: 1250,
        summary: 'An invoice for 1250 (chainone).',
        french: 'Une facture de 1250 euros.',
      },
    });
    // Data flowed as data: the summary step got the job's text and extract's total; translate got the summary.
    expect(dataOf(requestsFor('chainone', 'gpt-4o')[0]).input).toEqual({
      text: 'Invoice chainone: total due EUR 1,250.',
      total: 1250,
    });
    expect(dataOf(requestsFor('chainone', 'claude-3-5-haiku-latest')[0]).input).toEqual({
      text: 'An invoice for 1250 (chainone).',
    });
    const order = ['gpt-4o-mini', 'gpt-4o', 'claude-3-5-haiku-latest'].map(
      (m) => requestsFor('chainone', m)[0].receivedAt,
    );
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // Cost is every step's: 10 in + 5 out tokens each at the catalogue's prices.
    expect(job.costUsd).toBeCloseTo(0.0000045 + 0.000075 + 0.000028, 10);
    expect(
      Object.values(job.steps as Record<string, { status: string; model: string }>).map((s) => [
        s.status,
        s.model,
      ]),
    ).toEqual([
      ['completed', 'openai/gpt-4o-mini'],
      ['completed', 'openai/gpt-4o'],
      ['completed', 'anthropic/claude-3-5-haiku'],
    ]);
    const steps = (job.timeline as { type: string; summary: string }[]).filter(
      (e) => e.type === 'troupe.job.step-completed.v1',
    );
    expect(steps.map((e) => e.summary)).toEqual([
      expect.stringMatching(
        /^step extract \(model\) completed by openai\/gpt-4o-mini via route default in \d+ ms, \$0\.000005/,
      ),
      expect.stringMatching(/^step summarise \(model\) completed by openai\/gpt-4o/),
      expect.stringMatching(/^step translate \(model\) completed by anthropic\/claude-3-5-haiku/),
    ]);
    const webhook = await waitFor(() => receiver.received.find((w) => w.payload?.data.jobId === body.id));
    expect(webhook.payload).toMatchObject({
      type: 'job.completed',
      data: { output: { french: 'Une facture de 1250 euros.' } },
    });
  });

  it('given a translation failing the output schema once, then the repair loop runs only the translate step again', async () => {
    let translations = 0;
    behaviour.set('repairone', (r) => {
      if (r.model === 'gpt-4o-mini') return { content: { total: 7 } };
      if (r.model === 'gpt-4o') return { content: { summary: 'A small invoice (repairone).' } };
      return { content: { text: ++translations === 1 ? 'Une' : 'Une petite facture.' } };
    });
    const { body } = await troupe.submit({
      workflow: 'e2e-chain',
      input: { text: 'Invoice repairone of EUR 7.' },
    });
    const job = await finished(body.id);
    expect(job).toMatchObject({ status: 'delivered', result: { french: 'Une petite facture.' } });
    expect(requestsFor('repairone', 'gpt-4o-mini')).toHaveLength(1);
    expect(requestsFor('repairone', 'gpt-4o')).toHaveLength(1);
    expect(requestsFor('repairone', 'claude-3-5-haiku-latest')).toHaveLength(2);
    // The second translation was told what was wrong, as data.
    expect(JSON.stringify(dataOf(requestsFor('repairone', 'claude-3-5-haiku-latest')[1]))).toMatch(
      /previousErrors.*french/,
    );
    expect(job.steps.translate).toMatchObject({ status: 'completed', run: 2 });
    expect(job.steps.extract).toMatchObject({ run: 1 });
  });

  it('given a step whose answer misses its own output schema, then the job fails naming the step, and the next step never runs', async () => {
    behaviour.set('badschema', (r) =>
      r.model === 'gpt-4o-mini' ? { content: { total: 'a lot' } } : { content: { summary: 'never' } },
    );
    const { body } = await troupe.submit({
      workflow: 'e2e-chain',
      input: { text: 'Invoice badschema.' },
      webhook: { url: receiver.url },
    });
    const job = await finished(body.id);
    expect(job).toMatchObject({
      status: 'failed',
      errors: [
        {
          code: 'STEP_OUTPUT_INVALID',
          message: expect.stringMatching(
            /^step extract: .*does not match the step's output schema: \/total must be number/,
          ),
        },
      ],
    });
    expect(requestsFor('badschema', 'gpt-4o')).toHaveLength(0);
    expect(job.steps.extract).toMatchObject({ status: 'failed', code: 'STEP_OUTPUT_INVALID' });
    const notified = await waitFor(() => receiver.received.find((w) => w.payload?.data.jobId === body.id));
    expect(notified.payload).toMatchObject({
      type: 'job.failed',
      data: { error: { stage: 'generation', code: 'STEP_OUTPUT_INVALID' } },
    });
  });
});

describe('parallel enrichment', () => {
  it('given three independent model steps, then they run at the same time, and the transform merges their outputs', async () => {
    behaviour.set('parallelone', (r) => {
      const slow = { latencyMs: 600 };
      if (r.model === 'gpt-4o-mini') return { ...slow, content: { label: 'positive' } };
      if (r.model === 'gpt-4o')
        return { ...slow, content: { entities: [{ text: 'Acme', type: 'organization' }] } };
      return { ...slow, content: { summary: 'all good' } };
    });
    const { body } = await troupe.submit({
      workflow: 'e2e-parallel',
      input: { text: 'Acme was great, parallelone.' },
    });
    const job = await finished(body.id);
    expect(job).toMatchObject({
      status: 'delivered',
      result: {
        sentiment: 'positive',
        entities: [{ text: 'Acme', type: 'organization' }],
        summary: 'ALL GOOD',
      },
    });
    const calls = requestsFor('parallelone');
    expect(calls).toHaveLength(3);
    // Every call was received before any was answered: they overlapped.
    const lastReceived = Math.max(...calls.map((c) => c.receivedAt));
    const firstAnswered = Math.min(...calls.map((c) => c.answeredAt!));
    expect(lastReceived).toBeLessThan(firstAnswered);
    expect(job.steps.merged).toMatchObject({ kind: 'transform', status: 'completed' });
  });
});

describe('branches', () => {
  it('given an invoice, then the invoice chain runs and the complaint chain is skipped, saying why', async () => {
    const { body } = await troupe.submit({
      workflow: 'e2e-branch',
      input: { text: 'Invoice INV-1001: total due EUR 1,500.00.' },
    });
    const job = await finished(body.id);
    expect(job).toMatchObject({ status: 'delivered', result: { route: 'invoice', needsApproval: true } });
    expect(job.result).not.toHaveProperty('mood');
    expect(job.steps).toMatchObject({
      extract: { status: 'completed', model: 'local/field-extractor' },
      approval: { status: 'completed', output: true },
      mood: { status: 'skipped', reason: "when `$classification.label = 'complaint'` is false" },
      result: { status: 'completed' },
    });
    expect((job.timeline as { summary: string }[]).map((e) => e.summary)).toContain(
      "step mood (model) skipped: when `$classification.label = 'complaint'` is false",
    );
    // Steps are shown in the workflow's order.
    expect(Object.keys(job.steps)).toEqual(['extract', 'approval', 'mood', 'result']);
  });

  it('given a complaint, then the invoice chain is skipped down to the step needing only it', async () => {
    const { body } = await troupe.submit({
      workflow: 'e2e-branch',
      input: { text: 'I am angry, this is terrible.' },
    });
    const job = await finished(body.id);
    expect(job).toMatchObject({ status: 'delivered', result: { route: 'complaint', mood: 'negative' } });
    expect(job.steps).toMatchObject({
      extract: { status: 'skipped' },
      approval: { status: 'skipped', reason: 'every step it needs was skipped (extract)' },
      mood: { status: 'completed' },
    });
  });
});

describe('durable steps', () => {
  it('given generation killed while step 2 of 3 runs, then after a restart step 1 is not called again and the job completes', async () => {
    let hang = true;
    behaviour.set('crashone', (r) => {
      if (r.model === 'gpt-4o-mini') return { content: { total: 99 } };
      if (r.model === 'gpt-4o')
        return hang ? { hang: true } : { content: { summary: 'Recovered (crashone).' } };
      return { content: { text: 'Récupéré après la panne.' } };
    });
    const { body } = await troupe.submit({ workflow: 'e2e-chain', input: { text: 'Invoice crashone.' } });
    // Step 2's call started: step 1 was committed before it (the executor starts a step after its commit).
    await waitFor(() => requestsFor('crashone', 'gpt-4o').length === 1, {
      description: 'step 2 to call its model',
    });
    await troupe.services.get('generation')!.kill();
    hang = false;
    await troupe.restart('generation');
    const job = await finished(body.id);
    expect(job).toMatchObject({
      status: 'delivered',
      result: { total: 99, summary: 'Recovered (crashone).', french: 'Récupéré après la panne.' },
    });
    expect(requestsFor('crashone', 'gpt-4o-mini')).toHaveLength(1); // never repeated
    expect(requestsFor('crashone', 'gpt-4o')).toHaveLength(2); // the killed call, then the one after the takeover
    expect(requestsFor('crashone', 'claude-3-5-haiku-latest')).toHaveLength(1);
    expect(job.steps.summarise).toMatchObject({ status: 'completed', run: 1 });
  });
});

describe('the example workflows, with no provider answering', () => {
  it('given each shipped step workflow, when every remote model is down, then it completes on the local models', async () => {
    behaviour.set('shippedrun', () => ({ status: 503, errorMessage: 'overloaded' }));
    const jobs = await Promise.all(
      [
        [
          'document-chain',
          'Invoice INV-77 from Acme Corporation, shippedrun. Total due: EUR 1,250.00 by 2025-03-12.',
        ],
        ['feedback-enrichment', 'Mary Jones from Acme in Paris says the support was great, shippedrun.'],
        ['message-triage', 'I am angry: the product broke twice this week, shippedrun.'],
      ].map(
        async ([workflow, text]) => (await troupe.submit({ workflow, input: { text } })).body.id as string,
      ),
    );
    const [chain, enrichment, triage] = await Promise.all(jobs.map((id) => finished(id)));
    expect(chain).toMatchObject({
      status: 'delivered',
      result: {
        kind: 'invoice',
        fields: { total: 1250, currency: 'EUR', references: ['INV-77'] },
        summaryFr: { translated: false },
      },
    });
    expect(enrichment).toMatchObject({
      status: 'delivered',
      result: { sentiment: 'positive', people: ['Mary Jones'] },
    });
    expect(triage).toMatchObject({
      status: 'delivered',
      result: { route: 'complaint', mood: 'negative', reply: expect.any(String) },
    });
    expect(triage.steps).toMatchObject({ extract: { status: 'skipped' }, gist: { status: 'skipped' } });
  });
});
