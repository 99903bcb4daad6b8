import { ROUTES_STEP_ID, WorkflowDefinitionSchema, type ModelStep, type ReplayTarget, type WorkflowSnapshot } from '@troupe/contracts';

/** The workflow a replay's shadow jobs run: the target version, with the replay's model and prompt, delivering nowhere. */
export function shadowWorkflow(workflow: WorkflowSnapshot, target: ReplayTarget): WorkflowSnapshot {
  const copy = structuredClone(workflow);
  const applies = (stepId: string) => !target.steps || target.steps.includes(stepId);
  const edit = (plan: ModelStep) => {
    if (target.model) {
      plan.strategy = 'single';
      plan.model = target.model;
      delete plan.models;
    }
    if (target.prompt) {
      plan.instructions = target.prompt.instructions;
      plan.promptVersion = target.prompt.version;
      // A candidate's own instructions would win over the plan's.
      for (const candidate of plan.models ?? []) delete candidate.instructions;
    }
  };
  if (copy.generation && applies(ROUTES_STEP_ID)) Object.values(copy.generation.routes).forEach(edit);
  for (const step of copy.steps ?? []) {
    if (step.kind !== 'model' || !applies(step.id)) continue;
    if (step.routes) Object.values(step.routes).forEach(edit);
    else edit(step as unknown as ModelStep);
  }
  copy.delivery = {};
  // The edited copy must still be a valid workflow (a single-model plan needs its model, and so on).
  return WorkflowDefinitionSchema.parse(copy);
}

/** The ids of a workflow's model steps, as `target.steps` names them. */
export function modelStepIds(workflow: WorkflowSnapshot): string[] {
  return [...(workflow.generation ? [ROUTES_STEP_ID] : []), ...(workflow.steps ?? []).filter((s) => s.kind === 'model').map((s) => s.id)];
}
