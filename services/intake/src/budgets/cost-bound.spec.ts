import { WorkflowDefinitionSchema } from '@troupe/contracts';
import { ModelCatalogue } from '@troupe/models';
import { CostBound, PROMPT_OVERHEAD_TOKENS } from './cost-bound';

const catalogue = ModelCatalogue.fromObject({
  providers: { openai: { kind: 'openai', baseUrl: 'http://127.0.0.1:1/v1' }, local: { kind: 'local' } },
  models: {
    'openai/cheap': { capabilities: { json: true, contextTokens: 100000, maxOutputTokens: 100 }, price: { inputPerMTok: 1, outputPerMTok: 2 } },
    'openai/dear': { capabilities: { json: true, contextTokens: 100000, maxOutputTokens: 200 }, price: { inputPerMTok: 10, outputPerMTok: 20 } },
    'local/free': { capabilities: { json: true, contextTokens: 100000, maxOutputTokens: 50 } },
  },
});

const workflow = (extra: Record<string, unknown>) =>
  WorkflowDefinitionSchema.parse({
    id: 'w',
    version: 1,
    classification: { kind: 'rules', defaultLabel: 'x' },
    output: { schema: { type: 'object' } },
    ...extra,
  });

/** `{"type":"object"}`: the output schema is sent with the prompt. */
const SCHEMA = 17;

describe('the cost bound of a job', () => {
  it('given a fallback plan, retries and a repair loop, then every candidate, try and attempt is counted at the catalogue prices', () => {
    const w = workflow({
      generation: { routes: { default: { strategy: 'fallback', models: ['openai/cheap', 'openai/dear', 'local/free'], instructions: 'abcd' } } },
      validation: { repair: { maxAttempts: 2 } },
    });
    const text = 'hello';
    const input = 4 + Buffer.byteLength(JSON.stringify(text)) + SCHEMA + 200 /* the step's own output limit, as upstream */ + PROMPT_OVERHEAD_TOKENS;
    const cheap = BigInt(input) * 1_000_000n + 100n * 2_000_000n;
    const dear = BigInt(input) * 10_000_000n + 200n * 20_000_000n;
    expect(new CostBound(catalogue, 3).of(w, text)).toBe((cheap + dear) * 3n * 2n);
  });

  it('given a weighted plan and routes by label, then the dearest candidate of the dearest route is counted', () => {
    const w = workflow({
      generation: {
        routes: {
          default: { strategy: 'weighted', models: [{ model: 'openai/cheap', weight: 9 }, { model: 'openai/dear', weight: 1 }] },
          other: { model: 'openai/cheap' },
        },
      },
    });
    const input = Buffer.byteLength(JSON.stringify('t')) + SCHEMA + 200 + PROMPT_OVERHEAD_TOKENS;
    expect(new CostBound(catalogue, 1).of(w, 't')).toBe(BigInt(input) * 10_000_000n + 200n * 20_000_000n);
  });

  it('given only local models, then the bound is zero', () => {
    expect(new CostBound(catalogue, 3).of(workflow({ generation: { routes: { default: { model: 'local/free' } } } }), 'x')).toBe(0n);
  });
});
