import type { ModelStep, PlanCandidate, WorkflowDefinition } from '@troupe/contracts';
import type { ModelCatalogue } from '@troupe/models';
import { compileWorkflow, type ModelGraphStep } from '@troupe/workflow';
import type { Pico } from './money';

/**
 * Tokens a prompt carries besides the input text, instructions, schema and upstream outputs: the
 * classification, metadata, the JSON layout and a regeneration's validation errors.
 */
export const PROMPT_OVERHEAD_TOKENS = 2048;

/**
 * The most a job of a workflow can cost, in pico-dollars, from the workflow, the catalogue and the
 * request's size: every model call its plans can make (each candidate of a fallback, cascade or
 * parallel plan, the dearest of a weighted one, the dearest route), each tried `triesPerModel`
 * times, every step run again by each repair attempt, and the LLM classifier with its fallbacks.
 * A call's input is bounded by its bytes (byte-level tokenizers give at most one token per byte)
 * plus the upstream steps' output limits; its output by the model's output limit.
 */
export class CostBound {
  /** By snapshot object: the registry keeps one per version, and a replay's edited copy is another. */
  private readonly graphs = new WeakMap<WorkflowDefinition, ModelGraphStep[]>();

  constructor(
    private readonly catalogue: ModelCatalogue,
    private readonly triesPerModel: number,
  ) {}

  /** The catalogue has this `<provider>/<model>`. */
  knows(ref: string): boolean {
    return this.catalogue.get(ref) !== undefined;
  }

  of(workflow: WorkflowDefinition, inputText: string): Pico {
    const textBytes = Buffer.byteLength(JSON.stringify(inputText), 'utf8');
    const steps = this.modelSteps(workflow);
    const schemaBytes = workflow.output?.schema ? Buffer.byteLength(JSON.stringify(workflow.output.schema), 'utf8') : 0;
    // Any step may read any other's output: their output limits bound what the data message adds.
    const upstream = steps.reduce((n, s) => n + Math.max(...Object.values(s.plans).map((p) => this.maxOutput(p))), 0);
    let total = 0n;
    for (const step of steps) {
      const perRoute = Object.values(step.plans).map((plan) => this.plan(plan, textBytes + schemaBytes + upstream));
      total += perRoute.reduce((a, b) => (a > b ? a : b), 0n);
    }
    total *= BigInt(workflow.validation.repair.maxAttempts);
    if (workflow.classification.kind === 'llm') {
      const c = workflow.classification;
      const input = textBytes + Buffer.byteLength(c.instructions ?? '', 'utf8') + PROMPT_OVERHEAD_TOKENS;
      for (const ref of [c.model, ...c.fallback]) total += this.call(ref, input, undefined) * BigInt(this.triesPerModel);
    }
    return total;
  }

  private plan(plan: ModelStep, dataTokens: number): Pico {
    const candidates: PlanCandidate[] = plan.strategy === 'single' ? [{ model: plan.model!, weight: 1 }] : (plan.models ?? []);
    const costs = candidates.map((c) => {
      const instructions = Buffer.byteLength(c.instructions ?? plan.instructions ?? '', 'utf8');
      return this.call(c.model, instructions + dataTokens + PROMPT_OVERHEAD_TOKENS, undefined) * BigInt(this.triesPerModel);
    });
    if (plan.strategy === 'weighted') return costs.reduce((a, b) => (a > b ? a : b), 0n);
    return costs.reduce((a, b) => a + b, 0n);
  }

  private call(ref: string, inputTokens: number, maxOutputTokens: number | undefined): Pico {
    const model = this.catalogue.get(ref);
    if (!model?.price) return 0n;
    const output = maxOutputTokens ?? model.capabilities.maxOutputTokens;
    return (
      BigInt(inputTokens) * BigInt(Math.round(model.price.inputPerMTok * 1e6)) + BigInt(output) * BigInt(Math.round(model.price.outputPerMTok * 1e6))
    );
  }

  private maxOutput(plan: ModelStep): number {
    const refs = plan.strategy === 'single' ? [plan.model!] : (plan.models ?? []).map((c) => c.model);
    return Math.max(0, ...refs.map((r) => this.catalogue.get(r)?.capabilities.maxOutputTokens ?? 0));
  }

  private modelSteps(workflow: WorkflowDefinition): ModelGraphStep[] {
    let steps = this.graphs.get(workflow);
    if (!steps) {
      steps = compileWorkflow(workflow).steps.filter((s): s is ModelGraphStep => s.kind === 'model');
      this.graphs.set(workflow, steps);
    }
    return steps;
  }
}
