import type { ExpressionScope } from './expression';
import type { CompiledMapping, GraphStep, WorkflowGraph } from './workflow-graph';

/** Where one step of one job stands. A step with no state has not started (or is to run again). */
export type StepPhase = 'pending' | 'completed' | 'skipped' | 'failed' | 'cancelled';

export interface StepState {
  phase: StepPhase;
  output?: unknown;
}

/** What expressions read about the job besides its steps. */
export interface JobFacts {
  input: { text: string };
  classification?: unknown;
  metadata: Record<string, string>;
}

export interface Advance {
  /** Steps whose needs have finished and whose `when` holds: to run now. */
  ready: GraphStep[];
  /** Steps skipped now, with why (a false `when`, or every step they need was skipped). */
  skipped: { step: GraphStep; reason: string }[];
  /** A `when` that failed to evaluate: its step fails, and with it the job. */
  failed?: { step: GraphStep; code: 'CONDITION_FAILED'; reason: string };
  /** Every step has completed or been skipped: the job's output can be built. */
  complete: boolean;
}

const finished = (s: StepState | undefined) => s?.phase === 'completed' || s?.phase === 'skipped';

/** The scope of an expression of `step` (or of the output mapping): the job and the steps it may read. */
export function scopeFor(
  graph: WorkflowGraph,
  facts: JobFacts,
  states: ReadonlyMap<string, StepState>,
  step?: GraphStep,
): ExpressionScope {
  const visible = step ? graph.upstream.get(step.id) ?? new Set<string>() : graph.byId.keys();
  const steps: ExpressionScope['steps'] = {};
  for (const id of visible) {
    const s = states.get(id);
    if (finished(s)) steps[id] = s!.phase === 'completed' ? { status: 'completed', output: s!.output } : { status: 'skipped' };
  }
  return { input: facts.input, classification: facts.classification, metadata: facts.metadata, steps };
}

/**
 * Decides what happens next in a job's graph, given where each step stands: which steps start now,
 * which are skipped (and why), whether the graph is done. Pure: the caller persists the decision.
 * One pass in topological order settles every chain of skips, since a step comes after all it needs.
 */
export async function advance(graph: WorkflowGraph, facts: JobFacts, states: ReadonlyMap<string, StepState>): Promise<Advance> {
  const result: Advance = { ready: [], skipped: [], complete: false };
  if ([...states.values()].some((s) => s.phase === 'failed' || s.phase === 'cancelled')) return result;
  const now = new Map(states);
  for (const step of graph.steps) {
    if (now.has(step.id)) continue;
    const needs = step.needs.map((id) => now.get(id));
    if (!needs.every(finished)) continue;
    if (step.needs.length > 0 && needs.every((s) => s!.phase === 'skipped')) {
      result.skipped.push({ step, reason: `every step it needs was skipped (${step.needs.join(', ')})` });
      now.set(step.id, { phase: 'skipped' });
      continue;
    }
    if (step.when) {
      let holds: unknown;
      try {
        holds = await step.when.evaluate(scopeFor(graph, facts, now, step));
      } catch (error) {
        result.failed = { step, code: 'CONDITION_FAILED', reason: `when \`${step.when.source}\`: ${(error as Error).message}` };
        return { ready: [], skipped: [], failed: result.failed, complete: false };
      }
      if (!holds) {
        result.skipped.push({ step, reason: `when \`${step.when.source}\` is ${JSON.stringify(holds ?? null)}` });
        now.set(step.id, { phase: 'skipped' });
        continue;
      }
    }
    result.ready.push(step);
    now.set(step.id, { phase: 'pending' });
  }
  result.complete = result.ready.length === 0 && graph.steps.every((s) => finished(now.get(s.id)));
  return result;
}

/** Evaluates a mapping: one expression's value, or an object of one value per field (absent values left out). */
export async function evaluateMapping(mapping: CompiledMapping, scope: ExpressionScope): Promise<unknown> {
  if (mapping.kind === 'expression') return mapping.expression.evaluate(scope);
  const out: Record<string, unknown> = {};
  for (const [key, expression] of mapping.fields) {
    const value = await expression.evaluate(scope);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * The data a model step works on: an object for the data message. A mapping giving a string is
 * `{text}`; any other non-object value is `{value}`. Undefined when the step declares no input (the
 * job's input text, as before steps existed).
 */
export async function stepInput(
  graph: WorkflowGraph,
  step: GraphStep,
  facts: JobFacts,
  states: ReadonlyMap<string, StepState>,
): Promise<Record<string, unknown> | undefined> {
  if (step.kind !== 'model' || !step.input) return undefined;
  const value = await evaluateMapping(step.input, scopeFor(graph, facts, states, step));
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  return typeof value === 'string' ? { text: value } : { value: value ?? null };
}

/** The job's output, built from every step once the graph is complete. */
export async function graphOutput(graph: WorkflowGraph, facts: JobFacts, states: ReadonlyMap<string, StepState>): Promise<unknown> {
  if (graph.output.kind === 'step') return states.get(graph.output.step)?.output ?? null;
  return (await evaluateMapping(graph.output, scopeFor(graph, facts, states))) ?? null;
}

/** `step` and every step downstream of it. */
export function withDescendants(graph: WorkflowGraph, ids: Iterable<string>): Set<string> {
  const out = new Set<string>();
  const visit = (id: string) => {
    if (out.has(id)) return;
    out.add(id);
    for (const d of graph.dependents.get(id) ?? []) visit(d);
  };
  for (const id of ids) visit(id);
  return out;
}

/**
 * The steps the repair loop runs again for output errors at `paths` (JSON pointers into the job's
 * output): the step that produced each failing part (a transform's: the latest model step upstream
 * of it), or the last model step of the graph when a part cannot be traced; then every step
 * downstream of those, since their input changes. Steps outside keep their outputs.
 */
export function stepsToRerun(graph: WorkflowGraph, paths: (string | undefined)[]): Set<string> {
  const models = graph.steps.filter((s) => s.kind === 'model');
  const lastModel = (among: Iterable<string>) => {
    const set = new Set(among);
    return [...models].reverse().find((s) => set.has(s.id))?.id;
  };
  const fallback = models[models.length - 1]?.id ?? graph.steps[graph.steps.length - 1].id;
  const producerOf = (path: string | undefined): string => {
    let refs: string[] = [];
    if (graph.output.kind === 'step') refs = [graph.output.step];
    else if (graph.output.kind === 'expression') refs = graph.output.expression.stepReferences();
    else {
      const key = path?.split('/')[1];
      const field = graph.output.fields.find(([k]) => k === key);
      refs = field ? field[1].stepReferences() : [];
    }
    if (refs.length !== 1) return fallback;
    const step = graph.byId.get(refs[0])!;
    if (step.kind === 'model') return step.id;
    return lastModel(graph.upstream.get(step.id) ?? []) ?? fallback;
  };
  return withDescendants(graph, new Set((paths.length ? paths : [undefined]).map(producerOf)));
}
