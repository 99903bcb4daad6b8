import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_CATALOG, JOB_GENERATED_V1, WorkflowDefinitionSchema } from '@troupe/contracts';
import { parse as parseYaml } from 'yaml';
import { eventDataSchema } from './event-schemas';

const workflow = WorkflowDefinitionSchema.parse(
  parseYaml(readFileSync(join(__dirname, '../../../workflows/support-ticket-reply.v1.yaml'), 'utf8')),
);

const generated = (wf: unknown) => ({
  jobId: '6f1c2b4e-1111-4222-8333-944455556666',
  tenantId: 'acme',
  workflow: wf,
  input: { text: 'I was charged twice, please refund the extra payment.' },
  metadata: {},
  classification: { label: 'billing', confidence: 0.9, language: 'en', sentiment: { score: 0, comparative: 0, label: 'neutral' }, model: 'local/rules-v1' },
  generation: {
    model: 'local/templated-reply',
    route: 'default',
    output: { reply: 'We are sorry about the double charge.' },
    finishReason: 'stop',
    usage: { inputTokens: 1, outputTokens: 2 },
    costUsd: 0,
    latencyMs: 1,
  },
});

describe('eventDataSchema', () => {
  it('given the same snapshot in two events, when both are parsed, then each equals what the catalogue schema gives and neither shares objects with the other', () => {
    const raw = JSON.parse(JSON.stringify(generated(workflow)));
    const expected = EVENT_CATALOG[JOB_GENERATED_V1].schema.parse(raw);
    const first = eventDataSchema(JOB_GENERATED_V1).parse(raw);
    const second = eventDataSchema(JOB_GENERATED_V1).parse(JSON.parse(JSON.stringify(raw)));
    expect(first).toEqual(expected);
    expect(second).toEqual(expected);
    first.workflow.generation.routes.default.instructions = 'changed by a handler';
    expect(second.workflow.generation.routes.default.instructions).toBe(expected.workflow.generation!.routes.default.instructions);
  });

  it('given a bad snapshot, when parsed twice, then both fail with the issues the catalogue schema reports', () => {
    const raw = JSON.parse(JSON.stringify(generated({ ...workflow, version: -1, surplus: true })));
    const expected = EVENT_CATALOG[JOB_GENERATED_V1].schema.safeParse(raw);
    expect(expected.success).toBe(false);
    for (let i = 0; i < 2; i++) {
      const result = eventDataSchema(JOB_GENERATED_V1).safeParse(raw);
      expect(result.success).toBe(false);
      const issues = (r: typeof result) => (r.success ? [] : r.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).sort());
      expect(issues(result)).toEqual(issues(expected as typeof result));
    }
  });
});
