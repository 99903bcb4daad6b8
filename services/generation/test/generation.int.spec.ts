import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { JobClassifiedV1Schema, WorkflowDefinitionSchema, type WorkflowDefinition } from '@troupe/contracts';
import { DEFAULT_POLICY, ModelCatalogue, ModelClient, ModelRouter, type ModelRuntime } from '@troupe/models';
import { startFakeModelProvider, type FakeModelProvider } from '@troupe/testing';
import { compileWorkflow, type StepState } from '@troupe/workflow';
import { parse } from 'yaml';
import { GenerationErrorCode } from '../src/generation/generation.exception';
import type { StepTask } from '../src/steps/job-run';
import { StepRunner } from '../src/steps/step-runner';

// The step runner with the repository's own catalogue and example workflow, remote providers
// pointed at the fake over real HTTP.

let fake: FakeModelProvider;
let runner: StepRunner;
const repo = resolve(__dirname, '../../..');
const ticketWorkflow = WorkflowDefinitionSchema.parse(parse(readFileSync(resolve(repo, 'workflows/support-ticket-reply.v1.yaml'), 'utf8')));

beforeAll(async () => {
  fake = await startFakeModelProvider();
  const catalogue = ModelCatalogue.load(resolve(repo, 'config/models.yaml'), {
    TROUPE_OPENAI_BASE_URL: fake.openaiBaseUrl,
    TROUPE_OPENAI_API_KEY: 'sk-generation-test',
  });
  const client = new ModelClient(catalogue, { ...DEFAULT_POLICY, retryBaseMs: 5, retryCapMs: 10 });
  const runtime: ModelRuntime = { catalogue, client, router: new ModelRouter(client), deadlineMs: 5_000 };
  runner = new StepRunner(runtime);
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const job = (confidence: number, workflow: WorkflowDefinition = ticketWorkflow, label = 'billing') =>
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

/** One step of the job's graph, as the executor hands it to the runner. */
const task = (
  j: ReturnType<typeof job>,
  stepId: string,
  options: { stepRun?: number; previousErrors?: { code: string; message: string; path?: string }[]; states?: Map<string, StepState> } = {},
): StepTask => {
  const graph = compileWorkflow(j.workflow);
  return {
    run: {
      jobId: j.jobId,
      tenantId: j.tenantId,
      job: j,
      graph,
      attempt: options.stepRun ?? 1,
      previousErrors: options.previousErrors,
      traceHeaders: {},
      attemptStartedAt: new Date(),
      costUsd: 0,
    },
    step: graph.byId.get(stepId)!,
    stepRun: options.stepRun ?? 1,
    states: options.states ?? new Map(),
  };
};

const reply = {
  reply: 'Hello, we are looking into the double charge for you.',
  label: 'billing',
  tone: 'neutral',
  language: 'en',
};

describe('step runner: a workflow routes step', () => {
  it('given a confident classification, when run, then the local template answers and no provider is called', async () => {
    const result = await runner.run(task(job(0.9), 'generate'));
    expect(result).toMatchObject({ status: 'completed', model: 'local/templated-reply', strategy: 'cascade', costUsd: 0, run: 1 });
    expect(fake.requests).toHaveLength(0);
  });

  it('given a second run with validation errors, when run, then the cascade starts one tier up and the errors reach the model as data', async () => {
    fake.queue('gpt-4o-mini', { content: reply, confidence: 0.9, usage: { inputTokens: 400, outputTokens: 100 } });
    const previousErrors = [{ code: 'SCHEMA_VIOLATION', path: '/reply', message: 'must NOT have fewer than 20 characters' }];
    const result = await runner.run(task(job(0.9), 'generate', { stepRun: 2, previousErrors }));
    expect(result).toMatchObject({ status: 'completed', model: 'openai/gpt-4o-mini', run: 2, costUsd: 0.00012, output: reply });
    const [system, user] = fake.requests[0].body.messages;
    expect(JSON.parse(user.content).previousErrors).toEqual(previousErrors);
    expect(system.content).not.toContain('fewer than 20 characters');
  });

  it('given a workflow naming a model the catalogue does not know, when run, then the step fails with UNKNOWN_MODEL', async () => {
    const broken = job(0.9);
    broken.workflow.generation!.routes.default = { ...broken.workflow.generation!.routes.default, strategy: 'single', model: 'openai/gpt-imaginary' };
    const result = await runner.run(task(broken, 'generate'));
    expect(result).toMatchObject({ status: 'failed', code: GenerationErrorCode.UNKNOWN_MODEL, reason: expect.stringContaining('openai/gpt-imaginary') });
  });

  it('given a job past its deadline, when run, then no model is called and the step fails DEADLINE_EXCEEDED', async () => {
    const late = { ...job(0.2), deadlineAt: new Date(Date.now() - 1_000).toISOString() };
    fake.queue('gpt-4o-mini', { content: reply, confidence: 0.9 });
    const result = await runner.run(task(late, 'generate')); // low confidence: the cascade would go straight to OpenAI
    expect(result).toMatchObject({ status: 'failed', code: GenerationErrorCode.DEADLINE_EXCEEDED });
    expect(fake.requests).toHaveLength(0);
    const inTime = await runner.run(task({ ...job(0.2), deadlineAt: new Date(Date.now() + 60_000).toISOString() }, 'generate'));
    expect(inTime).toMatchObject({ status: 'completed', model: 'openai/gpt-4o-mini' });
  });
});

describe('step runner: steps of a graph', () => {
  const graphWorkflow = WorkflowDefinitionSchema.parse({
    id: 'graph',
    version: 1,
    classification: { kind: 'rules', defaultLabel: 'other', rules: [] },
    steps: [
      {
        id: 'extract',
        kind: 'model',
        strategy: 'fallback',
        models: ['openai/gpt-4o-mini', 'openai/gpt-4o'],
        instructions: 'Extract the amount.',
        output: { schema: { type: 'object', required: ['amount'], properties: { amount: { type: 'number' } } } },
      },
      {
        id: 'summarise',
        kind: 'model',
        needs: ['extract'],
        model: 'openai/gpt-4o-mini',
        instructions: 'Summarise.',
        input: { text: '$input.text', amount: '$steps.extract.output.amount' },
      },
      { id: 'shape', kind: 'transform', needs: ['extract', 'summarise'], expression: '{ "total": $steps.extract.output.amount * 2, "note": $steps.summarise.output.text }' },
    ],
    output: { schema: { type: 'object' } },
  });

  it('given an answer that misses the step schema, when run, then the fallback model is asked and the first attempt is recorded as OUTPUT_INVALID', async () => {
    fake.queue('gpt-4o-mini', { content: { total: 'twelve' } });
    fake.queue('gpt-4o', { content: { amount: 12 } });
    const result = await runner.run(task(job(0.9, graphWorkflow), 'extract'));
    expect(result).toMatchObject({ status: 'completed', model: 'openai/gpt-4o', output: { amount: 12 } });
    expect(result.attempts.map((a) => [a.model, a.outcome, a.errorKind])).toEqual([
      ['openai/gpt-4o-mini', 'failed', 'OUTPUT_INVALID'],
      ['openai/gpt-4o', 'succeeded', undefined],
    ]);
    // The step's schema, not the workflow's, went to the models.
    expect(fake.requests[0].body.messages[0].content).toContain('"required":["amount"]');
  });

  it('given no model answering the step schema, when run, then the step fails STEP_OUTPUT_INVALID with the violations', async () => {
    fake.queue('gpt-4o-mini', { content: { total: 1 } });
    fake.queue('gpt-4o', { content: { amount: 'x' } });
    const result = await runner.run(task(job(0.9, graphWorkflow), 'extract'));
    expect(result).toMatchObject({ status: 'failed', code: GenerationErrorCode.STEP_OUTPUT_INVALID, reason: expect.stringContaining("step's output schema") });
  });

  it('given an input mapping, when run, then the data message holds the mapped fields, never the instructions', async () => {
    fake.queue('gpt-4o-mini', { content: { text: 'short' } });
    const states = new Map<string, StepState>([['extract', { phase: 'completed', output: { amount: 12 } }]]);
    const result = await runner.run(task(job(0.9, graphWorkflow), 'summarise', { states }));
    expect(result.status).toBe('completed');
    const [system, user] = fake.requests[0].body.messages;
    expect(JSON.parse(user.content).input).toEqual({ text: 'I was charged twice for my subscription.', amount: 12 });
    expect(system.content).not.toContain('charged twice');
  });

  it('given a transform, when run, then its expression builds the output from upstream steps without a model call', async () => {
    const states = new Map<string, StepState>([
      ['extract', { phase: 'completed', output: { amount: 12 } }],
      ['summarise', { phase: 'completed', output: { text: 'short' } }],
    ]);
    const result = await runner.run(task(job(0.9, graphWorkflow), 'shape', { states }));
    expect(result).toMatchObject({ status: 'completed', kind: 'transform', output: { total: 24, note: 'short' }, costUsd: 0 });
    expect(fake.requests).toHaveLength(0);
  });
});
