import type { RedactionKind } from '@troupe/contracts';
import {
  ROUTES_STEP_ID,
  type Mapping,
  type ModelStep,
  type PlanCandidate,
  type WorkflowDefinition,
} from '@troupe/contracts';
import { Expression, ExpressionError } from './expression';

/** One expression, or one per field of the object it builds. */
export type CompiledMapping =
  | { kind: 'expression'; expression: Expression }
  | { kind: 'fields'; fields: [string, Expression][] };

interface StepBase {
  id: string;
  /** Position in the graph's topological order. */
  index: number;
  /** Where the step is declared, for messages: `steps.<id>` or `generation.routes`. */
  declaredAt: string;
  needs: string[];
  when?: Expression;
  /** JSON Schema the step's output must satisfy. */
  outputSchema?: Record<string, unknown>;
}

export interface ModelGraphStep extends StepBase {
  kind: 'model';
  /** Plans by classification label; `default` always present (one plan: only `default`). */
  plans: Record<string, ModelStep>;
  /** The data message; absent: the job's input text, as `generation.routes` always had it. */
  input?: CompiledMapping;
  /** The schema sent to JSON-capable models: the step's own, or the workflow's when the step's output is the job's. */
  promptSchema?: Record<string, unknown>;
}

export interface TransformGraphStep extends StepBase {
  kind: 'transform';
  expression: Expression;
}

export type GraphStep = ModelGraphStep | TransformGraphStep;

/** A workflow compiled for execution: its steps in topological order, their relations, the output mapping. */
export interface WorkflowGraph {
  workflow: { id: string; version: number };
  /** Personal data kept from third-party providers (the workflow's `privacy.redact`). */
  redact?: readonly RedactionKind[];
  steps: GraphStep[];
  byId: ReadonlyMap<string, GraphStep>;
  /** Transitive upstream (everything a step may read through `$steps`). */
  upstream: ReadonlyMap<string, ReadonlySet<string>>;
  /** Direct dependents. */
  dependents: ReadonlyMap<string, readonly string[]>;
  /** The job's output: a mapping over every step, or one step's output. */
  output: CompiledMapping | { kind: 'step'; step: string };
}

/** One problem of a workflow, with where it is: `steps.summarise.needs`. */
export interface WorkflowIssue {
  path: string;
  message: string;
}

/** The workflow cannot become a graph; `issues` say where and why. */
export class WorkflowGraphError extends Error {
  constructor(
    readonly workflow: string,
    readonly issues: WorkflowIssue[],
  ) {
    super(`${workflow}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'WorkflowGraphError';
  }
}

/** Every model a plan may call. */
export function planModels(plan: ModelStep): string[] {
  return plan.strategy === 'single' ? [plan.model!] : (plan.models ?? []).map((c: PlanCandidate) => c.model);
}

interface Draft {
  step: Omit<ModelGraphStep, 'index'> | Omit<TransformGraphStep, 'index'>;
  /** The step's expressions with the field they sit in, for reference checks. */
  expressions: { field: string; expression: Expression }[];
}

/**
 * Turns a workflow definition into its step graph, or throws a WorkflowGraphError listing every
 * problem: unknown or duplicate step ids, cycles, expressions that do not parse, references to
 * steps that are not upstream, an output that cannot be built. `generation.routes` becomes the
 * model step `generate` (plans by label), so a workflow without `steps` is a graph of one step.
 */
export function compileWorkflow(definition: WorkflowDefinition): WorkflowGraph {
  const issues: WorkflowIssue[] = [];
  const expression = (path: string, source: string): Expression | undefined => {
    try {
      return new Expression(source);
    } catch (error) {
      const e = error as ExpressionError;
      issues.push({ path, message: `expression does not parse: ${e.message}${e.position !== undefined ? ` (at character ${e.position})` : ''}` });
      return undefined;
    }
  };
  const mapping = (path: string, source: Mapping): CompiledMapping | undefined => {
    if (typeof source === 'string') {
      const e = expression(path, source);
      return e && { kind: 'expression', expression: e };
    }
    const fields: [string, Expression][] = [];
    for (const [key, value] of Object.entries(source)) {
      const e = expression(`${path}.${key}`, value);
      if (e) fields.push([key, e]);
    }
    return { kind: 'fields', fields };
  };
  const mappingExpressions = (path: string, m: CompiledMapping | undefined) =>
    !m ? [] : m.kind === 'expression' ? [{ field: path, expression: m.expression }] : m.fields.map(([k, e]) => ({ field: `${path}.${k}`, expression: e }));

  const drafts: Draft[] = [];
  if (definition.generation) {
    drafts.push({
      step: {
        id: ROUTES_STEP_ID,
        kind: 'model',
        declaredAt: 'generation.routes',
        needs: [],
        plans: definition.generation.routes as Record<string, ModelStep>,
      },
      expressions: [],
    });
  }
  (definition.steps ?? []).forEach((spec) => {
    const at = `steps.${spec.id}`;
    const when = spec.when !== undefined ? expression(`${at}.when`, spec.when) : undefined;
    const base = { id: spec.id, declaredAt: at, needs: spec.needs, when, outputSchema: spec.output?.schema };
    const expressions = when ? [{ field: `${at}.when`, expression: when }] : [];
    if (spec.kind === 'transform') {
      const e = expression(`${at}.expression`, spec.expression);
      if (e) expressions.push({ field: `${at}.expression`, expression: e });
      drafts.push({ step: { ...base, kind: 'transform', expression: e! }, expressions });
      return;
    }
    const { id: _id, kind: _kind, needs: _needs, when: _when, input, routes, output: _output, description: _d, ...plan } = spec;
    const compiledInput = input !== undefined ? mapping(`${at}.input`, input) : undefined;
    expressions.push(...mappingExpressions(`${at}.input`, compiledInput));
    drafts.push({
      step: { ...base, kind: 'model', plans: routes ?? { default: plan as ModelStep }, input: compiledInput },
      expressions,
    });
  });

  // Ids: unique, and `generate` is taken when generation.routes is there.
  const byId = new Map<string, Draft>();
  for (const draft of drafts) {
    if (byId.has(draft.step.id)) {
      const why = draft.step.id === ROUTES_STEP_ID && definition.generation ? ' (`generation.routes` is the step `generate`)' : '';
      issues.push({ path: draft.step.declaredAt, message: `step id "${draft.step.id}" is declared twice${why}` });
      continue;
    }
    byId.set(draft.step.id, draft);
  }
  for (const { step } of byId.values()) {
    const seen = new Set<string>();
    step.needs.forEach((need, i) => {
      if (need === step.id) issues.push({ path: `${step.declaredAt}.needs[${i}]`, message: 'a step cannot need itself' });
      else if (!byId.has(need)) issues.push({ path: `${step.declaredAt}.needs[${i}]`, message: `"${need}" is not a step of this workflow (steps: ${[...byId.keys()].join(', ')})` });
      else if (seen.has(need)) issues.push({ path: `${step.declaredAt}.needs[${i}]`, message: `"${need}" is listed twice` });
      seen.add(need);
    });
  }
  const order = topologicalOrder([...byId.values()].map((d) => d.step), issues);

  const upstream = new Map<string, Set<string>>();
  for (const step of order) {
    const set = new Set<string>();
    for (const need of step.needs) {
      if (!byId.has(need) || need === step.id) continue;
      set.add(need);
      for (const u of upstream.get(need) ?? []) set.add(u);
    }
    upstream.set(step.id, set);
  }
  // An expression may read only steps that have finished before it runs: its upstream.
  for (const { step, expressions } of byId.values()) {
    for (const { field, expression: e } of expressions) {
      for (const ref of e.stepReferences()) {
        if (!byId.has(ref)) issues.push({ path: field, message: `reads $steps.${ref}, but there is no step "${ref}"` });
        else if (ref === step.id) issues.push({ path: field, message: `reads $steps.${ref}, its own step` });
        else if (!upstream.get(step.id)?.has(ref)) {
          issues.push({ path: field, message: `reads $steps.${ref}, which is not upstream of "${step.id}" (add it to needs)` });
        }
      }
    }
  }

  // The job's output: an explicit mapping, or the only final step's output.
  const dependents = new Map<string, string[]>(order.map((s) => [s.id, []]));
  for (const s of order) for (const need of s.needs) dependents.get(need)?.push(s.id);
  let output: WorkflowGraph['output'] | undefined;
  if (definition.output.from !== undefined) {
    const m = mapping('output.from', definition.output.from);
    for (const { field, expression: e } of mappingExpressions('output.from', m)) {
      for (const ref of e.stepReferences()) {
        if (!byId.has(ref)) issues.push({ path: field, message: `reads $steps.${ref}, but there is no step "${ref}"` });
      }
    }
    output = m;
  } else {
    const sinks = order.filter((s) => (dependents.get(s.id) ?? []).length === 0);
    if (issues.length > 0) output = undefined; // a broken graph's sinks say nothing
    else if (sinks.length === 1) output = { kind: 'step', step: sinks[0].id };
    else if (sinks.length > 1) {
      issues.push({
        path: 'output.from',
        message: `required when the graph has several final steps (${sinks.map((s) => s.id).join(', ')}): say how the output is built from them`,
      });
    }
  }

  if (issues.length > 0) throw new WorkflowGraphError(`${definition.id} v${definition.version}`, issues);
  const steps: GraphStep[] = order.map((s, index) => {
    if (s.kind !== 'model') return { ...s, index } as TransformGraphStep;
    // The workflow's schema goes to the models whose output is the job's output, as it always did.
    const isOutput = output?.kind === 'step' && output.step === s.id;
    return { ...s, index, promptSchema: s.outputSchema ?? (isOutput ? definition.output.schema : undefined) } as ModelGraphStep;
  });
  return {
    workflow: { id: definition.id, version: definition.version },
    redact: definition.privacy?.redact,
    steps,
    byId: new Map(steps.map((s) => [s.id, s])),
    upstream,
    dependents,
    output: output!,
  };
}

/** Kahn's algorithm, declaration order breaking ties; a cycle is reported with its path. */
function topologicalOrder<S extends { id: string; needs: string[]; declaredAt: string }>(steps: S[], issues: WorkflowIssue[]): S[] {
  const ids = new Set(steps.map((s) => s.id));
  const pending = new Map(steps.map((s) => [s.id, new Set(s.needs.filter((n) => ids.has(n) && n !== s.id))]));
  const order: S[] = [];
  while (order.length < steps.length) {
    const next = steps.find((s) => pending.has(s.id) && pending.get(s.id)!.size === 0);
    if (!next) break;
    order.push(next);
    pending.delete(next.id);
    for (const needs of pending.values()) needs.delete(next.id);
  }
  if (order.length < steps.length) {
    const cycle = findCycle(steps.filter((s) => pending.has(s.id)));
    const first = steps.find((s) => s.id === cycle[0])!;
    issues.push({ path: `${first.declaredAt}.needs`, message: `steps depend on each other in a cycle: ${cycle.join(' → ')}` });
    order.push(...steps.filter((s) => pending.has(s.id))); // so later checks still see every step
  }
  return order;
}

function findCycle<S extends { id: string; needs: string[] }>(steps: S[]): string[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'open') return [...path.slice(path.indexOf(id)), id];
    if (state.get(id) === 'done' || !byId.has(id)) return undefined;
    state.set(id, 'open');
    path.push(id);
    for (const need of byId.get(id)!.needs) {
      const found = visit(need);
      if (found) return found;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const s of steps) {
    const found = visit(s.id);
    if (found) return found.reverse(); // in the direction work flows: a → b → a
  }
  return steps.map((s) => s.id);
}
