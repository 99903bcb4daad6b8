import { WorkflowDefinitionSchema, type WorkflowDefinition } from '@troupe/contracts';
import { Expression, ExpressionError } from './expression';
import { advance, graphOutput, stepInput, stepsToRerun, type StepState } from './step-scheduler';
import { validateWorkflow } from './validate-workflow';
import { compileWorkflow, WorkflowGraphError } from './workflow-graph';

const base = {
  id: 'wf',
  version: 1,
  classification: {
    kind: 'rules',
    defaultLabel: 'other',
    rules: [
      { label: 'invoice', keywords: ['invoice'] },
      { label: 'complaint', keywords: ['angry'] },
    ],
  },
  output: { schema: { type: 'object' } },
};
const workflow = (over: Record<string, unknown>): WorkflowDefinition => WorkflowDefinitionSchema.parse({ ...base, ...over });
const model = (id: string, over: Record<string, unknown> = {}) => ({ id, kind: 'model', model: 'local/extractive-summary', ...over });
const facts = { input: { text: 'hello' }, classification: { label: 'invoice', confidence: 0.9, language: 'en' }, metadata: {} };
const issuesOf = (definition: WorkflowDefinition) => validateWorkflow(definition).issues.map((i) => `${i.path}: ${i.message}`);

describe('compiling a workflow into a step graph', () => {
  it('given generation.routes only, when compiled, then it is one model step `generate` with a plan per label', () => {
    const graph = compileWorkflow(
      workflow({ generation: { routes: { default: { model: 'local/templated-reply' }, invoice: { model: 'local/extractive-summary' } } } }),
    );
    expect(graph.steps.map((s) => s.id)).toEqual(['generate']);
    const step = graph.steps[0];
    expect(step.kind === 'model' && Object.keys(step.plans)).toEqual(['default', 'invoice']);
    // The workflow's schema is sent to the models that produce the job's output, as before steps existed.
    expect(step.kind === 'model' && step.promptSchema).toEqual({ type: 'object' });
    expect(graph.output).toEqual({ kind: 'step', step: 'generate' });
  });

  it('given steps declared out of order, when compiled, then they are in topological order and upstream is transitive', () => {
    const graph = compileWorkflow(
      workflow({
        steps: [model('translate', { needs: ['summarise'] }), model('summarise', { needs: ['extract'] }), model('extract')],
      }),
    );
    expect(graph.steps.map((s) => s.id)).toEqual(['extract', 'summarise', 'translate']);
    expect([...graph.upstream.get('translate')!]).toEqual(['summarise', 'extract']);
    expect(graph.output).toEqual({ kind: 'step', step: 'translate' });
  });

  it('given generation.routes besides steps, when compiled, then steps can need `generate`', () => {
    const graph = compileWorkflow(
      workflow({
        generation: { routes: { default: { model: 'local/templated-reply' } } },
        steps: [{ id: 'shout', kind: 'transform', needs: ['generate'], expression: '$uppercase($steps.generate.output.reply)' }],
      }),
    );
    expect(graph.steps.map((s) => s.id)).toEqual(['generate', 'shout']);
  });
});

describe('load-time errors name the step and the field', () => {
  it('given a need on an unknown step, then the error names the step, the field and the known steps', () => {
    expect(issuesOf(workflow({ steps: [model('extract'), model('summarise', { needs: ['extrct'] })] }))).toEqual([
      'steps.summarise.needs[0]: "extrct" is not a step of this workflow (steps: extract, summarise)',
    ]);
  });

  it('given a cycle, then the cycle is spelled out', () => {
    const issues = issuesOf(workflow({ steps: [model('a', { needs: ['c'] }), model('b', { needs: ['a'] }), model('c', { needs: ['b'] })] }));
    // In the direction data flows: b needs a, c needs b, a needs c.
    expect(issues).toEqual(['steps.a.needs: steps depend on each other in a cycle: a → b → c → a']);
  });

  it('given a step needing itself or a duplicate id, then each is named', () => {
    expect(issuesOf(workflow({ steps: [model('a', { needs: ['a'] }), model('a')] }))).toEqual([
      'steps.a: step id "a" is declared twice',
      'steps.a.needs[0]: a step cannot need itself',
    ]);
  });

  it('given a reference to a step that is not upstream, then the fix is suggested', () => {
    const issues = issuesOf(
      workflow({
        steps: [model('a'), model('b', { input: { text: '$steps.a.output.summary' } }), model('c', { needs: ['a', 'b'] })],
      }),
    );
    expect(issues).toEqual(['steps.b.input.text: reads $steps.a, which is not upstream of "b" (add it to needs)']);
  });

  it('given a reference to no step at all, in a when and in output.from, then both are reported', () => {
    const issues = issuesOf(
      workflow({
        steps: [model('a', { when: '$steps.nope.status = "completed"' })],
        output: { schema: { type: 'object' }, from: { x: '$steps.ghost.output' } },
      }),
    );
    expect(issues).toEqual([
      'steps.a.when: reads $steps.nope, but there is no step "nope"',
      'output.from.x: reads $steps.ghost, but there is no step "ghost"',
    ]);
  });

  it('given an expression that does not parse, then the JSONata error and position are given', () => {
    const issues = issuesOf(workflow({ steps: [{ id: 't', kind: 'transform', expression: '{ "a": $input.text ' }] }));
    expect(issues).toEqual([expect.stringMatching(/^steps\.t\.expression: expression does not parse: S0203: .*\(at character \d+\)$/)]);
  });

  it('given several final steps and no output.from, then output.from is required', () => {
    expect(issuesOf(workflow({ steps: [model('a'), model('b')] }))).toEqual([
      'output.from: required when the graph has several final steps (a, b): say how the output is built from them',
    ]);
  });

  it('given unknown models, route labels no classifier produces, and a bad step schema, then each is reported', () => {
    const definition = workflow({
      steps: [
        model('a', { model: 'openai/gpt-imaginary' }),
        { id: 'b', kind: 'model', needs: ['a'], routes: { default: { model: 'local/templated-reply' }, refund: { model: 'local/templated-reply' } } },
        { id: 'c', kind: 'transform', needs: ['b'], expression: '$steps.b.output', output: { schema: { type: 'nonsense' } } },
      ],
    });
    const issues = validateWorkflow(definition, { isKnownModel: (m) => m.startsWith('local/') }).issues.map((i) => `${i.path}: ${i.message}`);
    expect(issues).toEqual([
      expect.stringMatching(/^steps\.c\.output\.schema: not a valid JSON Schema: /),
      'steps.b.routes: refund match no classification label (invoice, complaint, other)',
      'steps.a: unknown model openai/gpt-imaginary: not in the model catalogue',
    ]);
  });

  it('given neither steps nor generation, or a step id with a dash, then the schema says so', () => {
    const neither = WorkflowDefinitionSchema.safeParse(base);
    expect(neither.success || neither.error.issues.map((i) => i.message)).toEqual(['a workflow needs `steps` or `generation.routes`']);
    const dashed = WorkflowDefinitionSchema.safeParse({ ...base, steps: [model('extract-fields')] });
    expect(dashed.success || dashed.error.issues[0].message).toMatch(/no dashes/);
  });

  it('given a model step with routes and its own model, then that is refused', () => {
    const both = WorkflowDefinitionSchema.safeParse({
      ...base,
      steps: [{ id: 'a', kind: 'model', model: 'local/templated-reply', routes: { default: { model: 'local/templated-reply' } } }],
    });
    expect(both.success || both.error.issues[0].message).toBe('a step has either `routes` or its own `model`/`models`, not both');
  });

  it('given a broken graph, when compiled directly, then a WorkflowGraphError lists the issues', () => {
    expect(() => compileWorkflow(workflow({ steps: [model('a', { needs: ['b'] })] }))).toThrow(WorkflowGraphError);
  });
});

describe('deciding what runs next', () => {
  const triage = compileWorkflow(
    workflow({
      steps: [
        model('extract', { when: "$classification.label = 'invoice'" }),
        { id: 'check', kind: 'transform', needs: ['extract'], expression: '$steps.extract.output.total > 1000' },
        model('apologise', { when: "$classification.label = 'complaint'" }),
        {
          id: 'merge',
          kind: 'transform',
          needs: ['check', 'apologise'],
          expression: '{ "needsApproval": $steps.check.output, "reply": $steps.apologise.output }',
        },
      ],
    }),
  );

  it('given an invoice, when the graph starts, then the invoice branch runs and the complaint branch is skipped with why', async () => {
    const next = await advance(triage, facts, new Map());
    expect(next.ready.map((s) => s.id)).toEqual(['extract']);
    expect(next.skipped.map((s) => [s.step.id, s.reason])).toEqual([['apologise', "when `$classification.label = 'complaint'` is false"]]);
    expect(next.complete).toBe(false);
  });

  it('given the branch head skipped, then everything needing only skipped steps is skipped, and a join of one skipped and one done step runs', async () => {
    const complaint = { ...facts, classification: { label: 'complaint' } };
    const first = await advance(triage, complaint, new Map());
    expect(first.skipped.map((s) => s.step.id)).toEqual(['extract', 'check']);
    expect(first.skipped[1].reason).toBe('every step it needs was skipped (extract)');
    expect(first.ready.map((s) => s.id)).toEqual(['apologise']);
    const states = new Map<string, StepState>([
      ['extract', { phase: 'skipped' }],
      ['check', { phase: 'skipped' }],
      ['apologise', { phase: 'completed', output: 'sorry' }],
    ]);
    const second = await advance(triage, complaint, states);
    expect(second.ready.map((s) => s.id)).toEqual(['merge']);
  });

  it('given parallel roots, then they are ready together, and the join waits for both', async () => {
    const graph = compileWorkflow(
      workflow({
        steps: [model('a'), model('b'), { id: 'j', kind: 'transform', needs: ['a', 'b'], expression: '[$steps.a.output, $steps.b.output]' }],
      }),
    );
    expect((await advance(graph, facts, new Map())).ready.map((s) => s.id)).toEqual(['a', 'b']);
    const half = new Map<string, StepState>([['a', { phase: 'completed', output: 1 }], ['b', { phase: 'pending' }]]);
    expect(await advance(graph, facts, half)).toMatchObject({ ready: [], complete: false });
    const done = new Map<string, StepState>([...half, ['b', { phase: 'completed', output: 2 }], ['j', { phase: 'completed', output: [1, 2] }]]);
    const end = await advance(graph, facts, done);
    expect(end.complete).toBe(true);
    expect(await graphOutput(graph, facts, done)).toEqual([1, 2]);
  });

  it('given a when that fails to evaluate, then its step fails with CONDITION_FAILED', async () => {
    const graph = compileWorkflow(workflow({ steps: [model('a', { when: '$error("no")' })] }));
    const next = await advance(graph, facts, new Map());
    expect(next.failed).toMatchObject({ code: 'CONDITION_FAILED', step: { id: 'a' } });
  });

  it('given a failed step, then nothing more starts', async () => {
    const graph = compileWorkflow(workflow({ steps: [model('a'), model('b', { needs: ['a'] })] }));
    expect(await advance(graph, facts, new Map([['a', { phase: 'failed' }]]))).toMatchObject({ ready: [], complete: false });
  });
});

describe('data flow', () => {
  const graph = compileWorkflow(
    workflow({
      steps: [
        model('extract'),
        model('summarise', { needs: ['extract'], input: { text: '$input.text', fields: '$steps.extract.output.fields' } }),
        model('translate', { needs: ['summarise'], input: '$steps.summarise.output.summary' }),
      ],
      output: { schema: { type: 'object' }, from: { fields: '$steps.extract.output.fields', summary: '$steps.translate.output' } },
    }),
  );
  const states = new Map<string, StepState>([
    ['extract', { phase: 'completed', output: { fields: { total: 12 } } }],
    ['summarise', { phase: 'completed', output: { summary: 'short' } }],
  ]);

  it('given field mappings, then the step input is built from the job and upstream outputs', async () => {
    expect(await stepInput(graph, graph.byId.get('summarise')!, facts, states)).toEqual({ text: 'hello', fields: { total: 12 } });
    expect(await stepInput(graph, graph.byId.get('translate')!, facts, states)).toEqual({ text: 'short' });
    expect(await stepInput(graph, graph.byId.get('extract')!, facts, states)).toBeUndefined();
  });

  it('given the output mapping, then the job output is built from every step', async () => {
    const all = new Map([...states, ['translate', { phase: 'completed', output: 'kurz' } as StepState]]);
    expect(await graphOutput(graph, facts, all)).toEqual({ fields: { total: 12 }, summary: 'kurz' });
  });

  it('given a failing part of the output, then the step that produced it and those downstream run again', () => {
    expect([...stepsToRerun(graph, ['/fields/total'])]).toEqual(['extract', 'summarise', 'translate']);
    expect([...stepsToRerun(graph, ['/summary'])]).toEqual(['translate']);
    // Untraceable: the last model step.
    expect([...stepsToRerun(graph, ['/'])]).toEqual(['translate']);
  });

  it('given a transform producing the output, then the latest model step upstream of it runs again', () => {
    const g = compileWorkflow(
      workflow({ steps: [model('a'), model('b', { needs: ['a'] }), { id: 't', kind: 'transform', needs: ['b'], expression: '$steps.b.output' }] }),
    );
    expect([...stepsToRerun(g, ['/x'])]).toEqual(['b', 't']);
  });
});

describe('expressions', () => {
  it('given $eval, then it is refused: input is never evaluated as an expression', async () => {
    const e = new Expression('$eval($input.text)');
    await expect(e.evaluate({ input: { text: '1 + 1' }, metadata: {}, steps: {} })).rejects.toThrow(/\$eval is disabled/);
  });

  it('given a runaway expression, then the guardrails stop it', async () => {
    const e = new Expression('($f := function($n) { $f($n + 1) }; $f(0))');
    await expect(e.evaluate({ input: { text: '' }, metadata: {}, steps: {} })).rejects.toBeInstanceOf(ExpressionError);
  });

  it('given references in several forms, then the step ids are found', () => {
    expect(new Expression('$steps.a.output.x + steps.b.output ~> $string() & $lookup($steps, "c")').stepReferences()).toEqual(['a', 'b']);
  });
});
