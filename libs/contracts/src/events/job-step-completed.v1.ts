import { z } from 'zod';
import { StepResultSchema } from './step-result';

export const JOB_STEP_COMPLETED_V1 = 'troupe.job.step-completed.v1';
/**
 * One step of a multi-step workflow finished (completed, skipped, failed or cancelled), committed
 * with the step's state in generation. For the timeline and for other systems; generation itself
 * continues from its own store, not from this event. A one-step workflow's step is reported by
 * `job.generated` (or `job.failed`) alone.
 */
export const JobStepCompletedV1Schema = z.object({
  jobId: z.string().uuid(),
  tenantId: z.string(),
  workflow: z.object({ id: z.string(), version: z.number().int() }),
  /** The job's generation attempt (2.. in the repair loop). */
  attempt: z.number().int().positive(),
  step: StepResultSchema,
});
export type JobStepCompletedV1 = z.infer<typeof JobStepCompletedV1Schema>;
