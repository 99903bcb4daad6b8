import { z } from 'zod';
import { ClassificationSchema, FailureReasonSchema, GenerationSchema, JobContextSchema } from './job-context';

export const JOB_VALIDATED_V1 = 'troupe.job.validated.v1';
export const JobValidatedV1Schema = JobContextSchema.extend({
  classification: ClassificationSchema,
  generation: GenerationSchema,
  /** The validated output: what the customer receives. */
  output: z.unknown(),
  /** Shadow jobs only: the review rules would have held this output (a shadow job is never held). */
  wouldReview: z.object({ heldBecause: z.array(z.string()).min(1), findings: z.array(FailureReasonSchema).default([]) }).optional(),
});
export type JobValidatedV1 = z.infer<typeof JobValidatedV1Schema>;
