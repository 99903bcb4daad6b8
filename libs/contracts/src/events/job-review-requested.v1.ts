import { z } from 'zod';
import { ClassificationSchema, FailureReasonSchema, GenerationSchema, JobContextSchema } from './job-context';

export const JOB_REVIEW_REQUESTED_V1 = 'troupe.job.review-requested.v1';
/** A result passed the gates but the workflow's review rules hold it for a person. */
export const JobReviewRequestedV1Schema = JobContextSchema.extend({
  classification: ClassificationSchema,
  generation: GenerationSchema,
  reviewId: z.string().uuid(),
  /** The output awaiting a decision. */
  output: z.unknown(),
  /** Which review conditions matched, e.g. `label complaint`, `finding POLICY_PII_EMAIL`. */
  heldBecause: z.array(z.string()).min(1),
  /** Policy findings that were flagged (not failed), for the reviewer. */
  findings: z.array(FailureReasonSchema).default([]),
  dueAt: z.string().datetime(),
  onDeadline: z.enum(['reject', 'escalate']),
});
export type JobReviewRequestedV1 = z.infer<typeof JobReviewRequestedV1Schema>;
