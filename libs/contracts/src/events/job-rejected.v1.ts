import { z } from 'zod';
import { ClassificationSchema, FailureReasonSchema, GenerationSchema, JobContextSchema } from './job-context';

export const JOB_REJECTED_V1 = 'troupe.job.rejected.v1';
export const JobRejectedV1Schema = JobContextSchema.extend({
  classification: ClassificationSchema,
  generation: GenerationSchema,
  reasons: z.array(FailureReasonSchema).min(1),
});
export type JobRejectedV1 = z.infer<typeof JobRejectedV1Schema>;
