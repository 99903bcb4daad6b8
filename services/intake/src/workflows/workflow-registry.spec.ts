import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
  it('given the shipped example workflows, when loaded, then both validate', () => {
    const registry = WorkflowRegistry.load(resolve(__dirname, '../../../../workflows'));
    expect(registry.list().map((w) => w.id)).toEqual(expect.arrayContaining(['support-ticket-reply', 'document-summary']));
  });

  it('given two versions, when resolved without a version, then the newest; with one, that one', () => {
    const registry = WorkflowRegistry.load(dirWith({ 'demo.v1.yaml': valid(1), 'demo.v2.yaml': valid(2) }));
    expect(registry.resolve('demo')?.version).toBe(2);
    expect(registry.resolve('demo', 1)?.version).toBe(1);
    expect(registry.resolve('demo', 3)).toBeUndefined();
  });

  it('given a file missing a field, when loaded, then the error names the file and the field', () => {
    const dir = dirWith({ 'broken.yaml': 'id: broken\nversion: 1\ngeneration: { routes: { default: { model: local/x } } }\noutput: { schema: {} }' });
    expect(() => WorkflowRegistry.load(dir)).toThrow(/broken\.yaml: classification: Required/);
  });

  it('given an invalid output schema, a route for an unknown label or an unknown field, when loaded, then each is refused', () => {
    expect(() => WorkflowRegistry.load(dirWith({ 'a.yaml': valid(1).replace('{ type: object }', '{ type: 12 }') }))).toThrow(/output\.schema/);
    expect(() =>
      WorkflowRegistry.load(dirWith({ 'b.yaml': valid(1).replace('{ default: {', '{ nosuch: { model: local/x }, default: {') })),
    ).toThrow(/generation\.routes: nosuch/);
    expect(() => WorkflowRegistry.load(dirWith({ 'c.yaml': valid(1, 'colour: blue') }))).toThrow(/Unrecognized key/);
  });

  it('given validation and review fields, when loaded, then defaults fill in; a review rule on an unknown label or a bad policy is refused', () => {
    const registry = WorkflowRegistry.load(
      dirWith({ 'a.yaml': valid(1, 'validation: { policies: { pii: {} }, repair: { maxAttempts: 2 } }\nreview: { when: [{ label: billing }] }') }),
    );
    expect(registry.resolve('demo')).toMatchObject({
      validation: { policies: { pii: { kinds: ['email', 'phone', 'payment-card', 'iban'], action: 'fail' } }, repair: { maxAttempts: 2 } },
      review: { when: [{ label: 'billing' }], deadlineSeconds: 86400, onDeadline: 'reject' },
    });
    expect(() => WorkflowRegistry.load(dirWith({ 'b.yaml': valid(1, 'review: { when: [{ label: nosuch }] }') }))).toThrow(/review\.when: label nosuch/);
    expect(() => WorkflowRegistry.load(dirWith({ 'c.yaml': valid(1, 'validation: { policies: { pii: { kinds: [ssn] } } }') }))).toThrow(/validation\.policies\.pii\.kinds/);
    expect(() => WorkflowRegistry.load(dirWith({ 'd.yaml': valid(1, 'review: { when: [{}] }') }))).toThrow(/a review condition needs/);
  });

  it('given the same version twice, when loaded, then it is refused', () => {
    expect(() => WorkflowRegistry.load(dirWith({ 'a.yaml': valid(1), 'b.yaml': valid(1) }))).toThrow(/declared twice/);
  });
});
