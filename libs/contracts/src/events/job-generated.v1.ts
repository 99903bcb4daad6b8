import { z } from 'zod';
import { ClassificationSchema, GenerationSchema, JobContextSchema } from './job-context';
import { RepairStateSchema } from './repair-state';
import { StepSummarySchema } from './step-result';

export const JOB_GENERATED_V1 = 'troupe.job.generated.v1';
export const JobGeneratedV1Schema = JobContextSchema.extend({
  classification: ClassificationSchema,
  generation: GenerationSchema,
  /** Present when this output answers a regenerate request (the repair loop). */
  repair: RepairStateSchema.optional(),
  /**
   * Every step of the workflow's graph, in order: status, model, cost. For a multi-step workflow
   * `generation` sums them: its cost covers every step run for the job so far, and its output is the
   * workflow's `output.from` mapping.
   */
  steps: z.array(StepSummarySchema).optional(),
});
export type JobGeneratedV1 = z.infer<typeof JobGeneratedV1Schema>;
