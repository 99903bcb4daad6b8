import { resolve } from 'node:path';
import { JobClassifiedV1Schema, WorkflowDefinitionSchema } from '@troupe/contracts';
import { DEFAULT_POLICY, ModelCatalogue, ModelClient, ModelRouter, type ModelRuntime } from '@troupe/models';
import { startFakeModelProvider, type FakeModelProvider } from '@troupe/testing';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { GenerationErrorCode } from '../src/generation/generation.exception';
import { GenerationService } from '../src/generation/generation.service';

// The generation service with the repository's own catalogue and example workflow, remote
// providers pointed at the fake over real HTTP.

let fake: FakeModelProvider;
let service: GenerationService;
const repo = resolve(__dirname, '../../..');
const workflow = WorkflowDefinitionSchema.parse(
  parse(readFileSync(resolve(repo, 'workflows/support-ticket-reply.v1.yaml'), 'utf8')),
);

beforeAll(async () => {
  fake = await startFakeModelProvider();
  const catalogue = ModelCatalogue.load(resolve(repo, 'config/models.yaml'), {
    TROUPE_OPENAI_BASE_URL: fake.openaiBaseUrl,
    TROUPE_OPENAI_API_KEY: 'sk-generation-test',
  });
  const client = new ModelClient(catalogue, { ...DEFAULT_POLICY, retryBaseMs: 5, retryCapMs: 10 });
  const runtime: ModelRuntime = { catalogue, client, router: new ModelRouter(client), deadlineMs: 5_000 };
  service = new GenerationService(runtime);
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const job = (confidence: number, label = 'billing') =>
  JobClassifiedV1Schema.parse({
    jobId: '3f0c9a52-8d0e-4a55-9b7e-0d6c2c1f4a11',
    tenantId: 'acme',
    workflow,
    input: { text: 'I was charged twice for my subscription.' },
    classification: {
      label,
      confidence,
      language: 'en',
      sentiment: { score: 0, comparative: 0, label: 'neutral' },
      model: 'local/rules-v1',
      signals: [],
    },
  });
const reply = {
  reply: 'Hello, we are looking into the double charge for you.',
  label: 'billing',
  tone: 'neutral',
  language: 'en',
};

describe('generation service', () => {
  it('given a confident classification, when generated, then the local template answers and no provider is called', async () => {
    const outcome = await service.generate(job(0.9));
    expect(outcome).toMatchObject({
      kind: 'generated',
      generation: { model: 'local/templated-reply', strategy: 'cascade', costUsd: 0, attempt: 1 },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('given a regeneration with validation errors, when generated, then the cascade starts one tier up and the errors reach the model as data', async () => {
    fake.queue('gpt-4o-mini', {
      content: reply,
      confidence: 0.9,
      usage: { inputTokens: 400, outputTokens: 100 },
    });
    const previousErrors = [
      { code: 'SCHEMA_VIOLATION', path: '/reply', message: 'must NOT have fewer than 20 characters' },
    ];
    const outcome = await service.generate(job(0.9), { attempt: 2, previousErrors });
    expect(outcome).toMatchObject({
      kind: 'generated',
      generation: { model: 'openai/gpt-4o-mini', attempt: 2, costUsd: 0.00012, output: reply },
    });
    const [system, user] = fake.requests[0].body.messages;
    expect(JSON.parse(user.content).previousErrors).toEqual(previousErrors);
    expect(system.content).not.toContain('fewer than 20 characters');
  });

  it('given a workflow naming a model the catalogue does not know, when generated, then the outcome is an UNKNOWN_MODEL failure', async () => {
    const broken = job(0.9);
    broken.workflow.generation.routes.default = {
      ...broken.workflow.generation.routes.default,
      strategy: 'single',
      model: 'openai/gpt-imaginary',
    };
    const outcome = await service.generate(broken);
    expect(outcome).toMatchObject({
      kind: 'failed',
      code: GenerationErrorCode.UNKNOWN_MODEL,
      reason: expect.stringContaining('openai/gpt-imaginary'),
    });
  });

  it('given a job past its deadline, when generated, then no model is called and the outcome is DEADLINE_EXCEEDED', async () => {
    const late = { ...job(0.2), deadlineAt: new Date(Date.now() - 1_000).toISOString() };
    fake.queue('gpt-4o-mini', { content: reply, confidence: 0.9 });
    const outcome = await service.generate(late); // low confidence: the cascade would go straight to OpenAI
    expect(outcome).toMatchObject({ kind: 'failed', code: GenerationErrorCode.DEADLINE_EXCEEDED });
    expect(fake.requests).toHaveLength(0);
    // The same job with time left is served.
    const inTime = await service.generate({ ...job(0.2), deadlineAt: new Date(Date.now() + 60_000).toISOString() });
    expect(inTime).toMatchObject({ kind: 'generated', generation: { model: 'openai/gpt-4o-mini' } });
  });
});
