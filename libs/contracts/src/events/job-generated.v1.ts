import { z } from 'zod';
import { ClassificationSchema, GenerationSchema, JobContextSchema } from './job-context';
import { RepairStateSchema } from './repair-state';

export const JOB_GENERATED_V1 = 'troupe.job.generated.v1';
export const JobGeneratedV1Schema = JobContextSchema.extend({
  classification: ClassificationSchema,
  generation: GenerationSchema,
  /** Present when this output answers a regenerate request (the repair loop). */
  repair: RepairStateSchema.optional(),
});
export type JobGeneratedV1 = z.infer<typeof JobGeneratedV1Schema>;
