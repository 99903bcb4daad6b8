import { Controller, Get, Inject } from '@nestjs/common';
import { ROUTES_STEP_ID, type WorkflowDefinition } from '@troupe/contracts';
import { z } from 'zod';
import { WorkflowRegistry } from './workflow-registry';

export const WorkflowSummarySchema = z.object({
  id: z.string(),
  version: z.number().int(),
  description: z.string(),
  labels: z.array(z.string()),
  outputSchema: z.record(z.string(), z.unknown()),
  /** The graph: each step with the steps it needs (a `generation.routes` workflow is one step, `generate`). */
  steps: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(['model', 'transform']),
      needs: z.array(z.string()),
      /** Model steps: the models named by the step's plans. */
      models: z.array(z.string()),
    }),
  ),
});
export type WorkflowSummary = z.infer<typeof WorkflowSummarySchema>;

/** Every `<provider>/<model>` a plan (or a plan per label) names. */
function modelsOf(plan: unknown): string[] {
  const found = new Set<string>();
  const walk = (v: unknown) => {
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k === 'model' && typeof x === 'string') found.add(x);
      else if (k !== 'input' && k !== 'instructions') walk(x);
    }
  };
  walk(plan);
  return [...found];
}

export function summarize(w: WorkflowDefinition): WorkflowSummary {
  const steps: WorkflowSummary['steps'] = [];
  if (w.generation) steps.push({ id: ROUTES_STEP_ID, kind: 'model', needs: [], models: modelsOf(w.generation.routes) });
  for (const step of w.steps ?? []) {
    steps.push({ id: step.id, kind: step.kind, needs: step.needs, models: step.kind === 'model' ? modelsOf(step) : [] });
  }
  return {
    id: w.id,
    version: w.version,
    description: w.description,
    labels: [...new Set([...w.classification.rules.map((r) => r.label), w.classification.defaultLabel])],
    outputSchema: w.output.schema,
    steps,
  };
}

@Controller('v1/workflows')
export class WorkflowsController {
  constructor(@Inject(WorkflowRegistry) private readonly registry: WorkflowRegistry) {}

  @Get()
  list() {
    return { items: this.registry.list().map(summarize) };
  }
}
