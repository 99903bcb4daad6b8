import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ModelCatalogue } from '@troupe/models';
import { WorkflowRegistry } from './workflow-registry';

const dirWith = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-workflows-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
};

const valid = (version: number, extra = '') => `
id: demo
version: ${version}
classification: { kind: rules, defaultLabel: other, rules: [{ label: billing, keywords: [refund] }] }
generation: { routes: { default: { model: local/templated-reply } } }
output: { schema: { type: object } }
${extra}`;

describe('WorkflowRegistry', () => {
  it('given the shipped example workflows, when loaded against the shipped catalogue, then all validate', () => {
    const catalogue = ModelCatalogue.load(resolve(__dirname, '../../../../config/models.yaml'), {});
    const registry = WorkflowRegistry.load(resolve(__dirname, '../../../../workflows'), {
      isKnownModel: (m) => catalogue.get(m) !== undefined,
    });
    expect(registry.list().map((w) => w.id)).toEqual(
      expect.arrayContaining([
        'support-ticket-reply',
        'document-summary',
        'document-chain',
        'feedback-enrichment',
        'message-triage',
      ]),
    );
  });

  it('given two versions, when resolved without a version, then the newest; with one, that one', () => {
    const registry = WorkflowRegistry.load(dirWith({ 'demo.v1.yaml': valid(1), 'demo.v2.yaml': valid(2) }));
    expect(registry.resolve('demo')?.version).toBe(2);
    expect(registry.resolve('demo', 1)?.version).toBe(1);
    expect(registry.resolve('demo', 3)).toBeUndefined();
  });

  it('given a file missing a field, when loaded, then the error names the file and the field', () => {
    const dir = dirWith({
      'broken.yaml':
        'id: broken\nversion: 1\ngeneration: { routes: { default: { model: local/x } } }\noutput: { schema: {} }',
    });
    expect(() => WorkflowRegistry.load(dir)).toThrow(/broken\.yaml: classification: Required/);
  });

  it('given an invalid output schema, a route for an unknown label or an unknown field, when loaded, then each is refused', () => {
    expect(() =>
      WorkflowRegistry.load(dirWith({ 'a.yaml': valid(1).replace('{ type: object }', '{ type: 12 }') })),
    ).toThrow(/output\.schema/);
    expect(() =>
      WorkflowRegistry.load(
        dirWith({ 'b.yaml': valid(1).replace('{ default: {', '{ nosuch: { model: local/x }, default: {') }),
      ),
    ).toThrow(/generation\.routes: nosuch/);
    expect(() => WorkflowRegistry.load(dirWith({ 'c.yaml': valid(1, 'colour: blue') }))).toThrow(
      /Unrecognized key/,
    );
  });

  it('given validation and review fields, when loaded, then defaults fill in; a review rule on an unknown label or a bad policy is refused', () => {
    const registry = WorkflowRegistry.load(
      dirWith({
        'a.yaml': valid(
          1,
          'validation: { policies: { pii: {} }, repair: { maxAttempts: 2 } }\nreview: { when: [{ label: billing }] }',
        ),
      }),
    );
    expect(registry.resolve('demo')).toMatchObject({
      validation: {
        policies: { pii: { kinds: ['email', 'phone', 'payment-card', 'iban'], action: 'fail' } },
        repair: { maxAttempts: 2 },
      },
      review: { when: [{ label: 'billing' }], deadlineSeconds: 86400, onDeadline: 'reject' },
    });
    expect(() =>
      WorkflowRegistry.load(dirWith({ 'b.yaml': valid(1, 'review: { when: [{ label: nosuch }] }') })),
    ).toThrow(/review\.when: label nosuch/);
    expect(() =>
      WorkflowRegistry.load(
        dirWith({ 'c.yaml': valid(1, 'validation: { policies: { pii: { kinds: [ssn] } } }') }),
      ),
    ).toThrow(/validation\.policies\.pii\.kinds/);
    expect(() => WorkflowRegistry.load(dirWith({ 'd.yaml': valid(1, 'review: { when: [{}] }') }))).toThrow(
      /a review condition needs/,
    );
  });

  const graph = (steps: string) => `
id: graph
version: 1
classification: { kind: rules, defaultLabel: other, rules: [] }
steps:
${steps}
output: { schema: { type: object } }`;

  it('given a step graph with an unknown need, an unknown model and a non-upstream reference, when loaded, then each names the file, the step and the field', () => {
    const catalogue = ModelCatalogue.load(resolve(__dirname, '../../../../config/models.yaml'), {});
    const dir = dirWith({
      'graph.v1.yaml': graph(`
  - { id: extract, kind: model, model: openai/gpt-imaginary }
  - { id: summarise, kind: model, model: local/extractive-summary, needs: [extrct], input: { text: $steps.extract.output.text } }`),
    });
    expect(() => WorkflowRegistry.load(dir, { isKnownModel: (m) => catalogue.get(m) !== undefined })).toThrow(
      /graph\.v1\.yaml: steps\.summarise\.needs\[0\]: "extrct" is not a step of this workflow .*steps\.summarise\.input\.text: reads \$steps\.extract, which is not upstream of "summarise".*steps\.extract: unknown model openai\/gpt-imaginary/,
    );
  });

  it('given a step missing a field the schema requires, when loaded, then the step is named by its id', () => {
    const dir = dirWith({
      'graph.v1.yaml': graph(
        `  - { id: first, kind: transform, expression: '1' }\n  - { id: second, kind: model, needs: [first] }`,
      ),
    });
    expect(() => WorkflowRegistry.load(dir)).toThrow(
      /graph\.v1\.yaml: steps\.second\.model: a single-model step needs `model`/,
    );
  });

  it('given steps in a cycle, when loaded, then the cycle is spelled out', () => {
    const dir = dirWith({
      'graph.v1.yaml': graph(
        `  - { id: a, kind: transform, needs: [b], expression: '1' }\n  - { id: b, kind: transform, needs: [a], expression: '2' }`,
      ),
    });
    expect(() => WorkflowRegistry.load(dir)).toThrow(
      /steps\.a\.needs: steps depend on each other in a cycle: a → b → a/,
    );
  });

  it('given the same version twice, when loaded, then it is refused', () => {
    expect(() => WorkflowRegistry.load(dirWith({ 'a.yaml': valid(1), 'b.yaml': valid(1) }))).toThrow(
      /declared twice/,
    );
  });
});
