import type { ModelStep, WorkflowDefinition } from '@troupe/contracts';
import { JsonSchemaValidator } from './json-schema';
import { compileWorkflow, planModels, WorkflowGraphError, type WorkflowGraph, type WorkflowIssue } from './workflow-graph';

export interface ValidateWorkflowOptions {
  /** Whether the model catalogue knows `<provider>/<model>`; without it models are not checked. */
  isKnownModel?: (ref: string) => boolean;
}

const schemas = new JsonSchemaValidator();

/**
 * Everything checked when a workflow file is loaded, beyond its shape: the graph (see
 * `compileWorkflow`), the JSON Schemas compile, every route label is one the classifier can
 * produce, every model is in the catalogue. Returns the graph, or every problem found.
 */
export function validateWorkflow(
  definition: WorkflowDefinition,
  options: ValidateWorkflowOptions = {},
): { graph?: WorkflowGraph; issues: WorkflowIssue[] } {
  const issues: WorkflowIssue[] = [];
  let graph: WorkflowGraph | undefined;
  try {
    graph = compileWorkflow(definition);
  } catch (error) {
    if (!(error instanceof WorkflowGraphError)) throw error;
    issues.push(...error.issues);
  }

  const schemaCompiles = (path: string, schema: Record<string, unknown> | undefined) => {
    if (!schema) return;
    try {
      schemas.compile(schema);
    } catch (error) {
      issues.push({ path, message: `not a valid JSON Schema: ${(error as Error).message}` });
    }
  };
  schemaCompiles('output.schema', definition.output.schema);
  for (const step of definition.steps ?? []) schemaCompiles(`steps.${step.id}.output.schema`, step.output?.schema);

  const classifier = definition.classification;
  const labels = new Set([
    ...classifier.rules.map((r) => r.label),
    ...(classifier.kind === 'llm' ? classifier.labels : []),
    classifier.defaultLabel,
  ]);
  const known = [...labels].join(', ');
  const plansAt: { path: string; plans: Record<string, ModelStep> }[] = [];
  if (definition.generation) plansAt.push({ path: 'generation.routes', plans: definition.generation.routes });
  for (const step of definition.steps ?? []) {
    if (step.kind !== 'model') continue;
    if (step.routes) plansAt.push({ path: `steps.${step.id}.routes`, plans: step.routes });
  }
  for (const { path, plans } of plansAt) {
    const unknown = Object.keys(plans).filter((r) => r !== 'default' && !labels.has(r));
    if (unknown.length > 0) issues.push({ path, message: `${unknown.join(', ')} match no classification label (${known})` });
  }
  const reviewLabels = (definition.review?.when ?? []).map((c) => c.label).filter((l): l is string => l !== undefined && !labels.has(l));
  if (reviewLabels.length > 0) {
    issues.push({ path: 'review.when', message: `label ${reviewLabels.join(', ')} is no classification label (${known})` });
  }

  if (options.isKnownModel) {
    const check = (path: string, refs: string[]) => {
      const unknown = refs.filter((m) => !options.isKnownModel!(m));
      if (unknown.length > 0) issues.push({ path, message: `unknown model ${unknown.join(', ')}: not in the model catalogue` });
    };
    for (const { path, plans } of plansAt) for (const [label, plan] of Object.entries(plans)) check(`${path}.${label}`, planModels(plan));
    for (const step of definition.steps ?? []) {
      if (step.kind === 'model' && !step.routes) check(`steps.${step.id}`, planModels(step as ModelStep));
    }
    if (classifier.kind === 'llm') check('classification', [classifier.model, ...classifier.fallback]);
  }
  return { graph: issues.length === 0 ? graph : undefined, issues };
}
