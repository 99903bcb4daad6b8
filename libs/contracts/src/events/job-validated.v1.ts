import { z } from 'zod';
import { ClassificationSchema, GenerationSchema, JobContextSchema } from './job-context';

export const JOB_VALIDATED_V1 = 'troupe.job.validated.v1';
export const JobValidatedV1Schema = JobContextSchema.extend({
  classification: ClassificationSchema,
  generation: GenerationSchema,
  /** The validated output: what the customer receives. */
  output: z.unknown(),
});
export type JobValidatedV1 = z.infer<typeof JobValidatedV1Schema>;
