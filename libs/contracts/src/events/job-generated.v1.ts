import { z } from 'zod';
import { ClassificationSchema, GenerationSchema, JobContextSchema } from './job-context';

export const JOB_GENERATED_V1 = 'troupe.job.generated.v1';
export const JobGeneratedV1Schema = JobContextSchema.extend({
  classification: ClassificationSchema,
  generation: GenerationSchema,
});
export type JobGeneratedV1 = z.infer<typeof JobGeneratedV1Schema>;
