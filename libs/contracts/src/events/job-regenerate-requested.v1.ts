import { z } from 'zod';
import { ClassificationSchema, GenerationSchema, JobContextSchema } from './job-context';
import { RepairStateSchema } from './repair-state';

export const JOB_REGENERATE_REQUESTED_V1 = 'troupe.job.regenerate-requested.v1';
/** Validation failed a gate and the workflow allows another attempt: generate again, told why. */
export const JobRegenerateRequestedV1Schema = JobContextSchema.extend({
  classification: ClassificationSchema,
  /** The attempt that failed. */
  generation: GenerationSchema,
  /** `attempt` is the one to make now; the last entry of `history` holds the errors to correct. */
  repair: RepairStateSchema,
});
export type JobRegenerateRequestedV1 = z.infer<typeof JobRegenerateRequestedV1Schema>;
