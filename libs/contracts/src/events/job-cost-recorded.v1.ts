import { z } from 'zod';
import { UsageSchema } from './job-context';

export const JOB_COST_RECORDED_V1 = 'troupe.job.cost-recorded.v1';

/** One try of one model for a job, as the job's cost ledger keeps it. */
export const ModelCallCostSchema = z.object({
  /** The step of the workflow's graph (absent for the classifier). */
  step: z.string().optional(),
  /** The step's run (2.. when the repair loop ran it again). */
  stepRun: z.number().int().positive().optional(),
  /** The job's generation attempt (2.. in the repair loop). */
  generationAttempt: z.number().int().positive().optional(),
  model: z.string(),
  /** 1 for the first call of this model in this step run, 2.. for retries. */
  try: z.number().int().positive(),
  outcome: z.enum(['succeeded', 'failed']),
  errorKind: z.string().optional(),
  usage: UsageSchema.optional(),
  costUsd: z.number().nonnegative(),
  latencyMs: z.number().nonnegative().default(0),
});
export type ModelCallCost = z.infer<typeof ModelCallCostSchema>;

/**
 * Model calls a stage made for a job, committed with the stage's record of them: the job's cost
 * ledger in intake is the sum of these (every try, fallback, step and regeneration, failed ones
 * that reported usage included), and budgets are settled from it.
 */
export const JobCostRecordedV1Schema = z.object({
  jobId: z.string().uuid(),
  tenantId: z.string(),
  stage: z.enum(['classification', 'generation']),
  workflow: z.object({ id: z.string(), version: z.number().int() }),
  calls: z.array(ModelCallCostSchema).min(1),
});
export type JobCostRecordedV1 = z.infer<typeof JobCostRecordedV1Schema>;
