import { z } from 'zod';
import { ModelAttemptSchema, RoutingDecisionSchema, UsageSchema } from './job-context';

export const StepStatusSchema = z.enum(['completed', 'skipped', 'failed', 'cancelled']);
export type StepStatus = z.infer<typeof StepStatusSchema>;

/** What one run of one step of a job's graph did: the timeline's and the cost breakdown's unit. */
export const StepResultSchema = z.object({
  id: z.string(),
  kind: z.enum(['model', 'transform']),
  status: StepStatusSchema,
  /** 1 for the step's first run for this job, 2.. when the repair loop ran it again. */
  run: z.number().int().positive(),
  /** The step's output (completed steps). */
  output: z.unknown().optional(),
  /** Why it was skipped, failed or cancelled. */
  reason: z.string().optional(),
  /** For failures: e.g. MODELS_UNAVAILABLE, STEP_OUTPUT_INVALID, TRANSFORM_FAILED, DEADLINE_EXCEEDED. */
  code: z.string().optional(),
  /** Model steps: the model whose output is used (for `parallel`, joined with `+`), its route and strategy. */
  model: z.string().optional(),
  route: z.string().optional(),
  strategy: z.string().optional(),
  startedAt: z.string().datetime({ offset: true }).optional(),
  latencyMs: z.number().nonnegative().default(0),
  usage: UsageSchema.optional(),
  /** Every attempt of this run, failed ones included. */
  costUsd: z.number().nonnegative().default(0),
  attempts: z.array(ModelAttemptSchema).default([]),
  decisions: z.array(RoutingDecisionSchema).default([]),
  /** Model steps: what the chosen model reported. */
  finishReason: z.string().optional(),
  confidence: z.number().min(0).max(1).optional(),
  promptVersion: z.number().int().positive().optional(),
  providerRequestId: z.string().optional(),
});
export type StepResult = z.infer<typeof StepResultSchema>;

/** A step's result without its output and attempts: what `job.generated` lists for every step. */
export const StepSummarySchema = StepResultSchema.pick({
  id: true,
  kind: true,
  status: true,
  run: true,
  reason: true,
  code: true,
  model: true,
  route: true,
  strategy: true,
  startedAt: true,
  latencyMs: true,
  usage: true,
  costUsd: true,
});
export type StepSummary = z.infer<typeof StepSummarySchema>;
