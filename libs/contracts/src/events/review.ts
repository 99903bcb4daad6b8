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

export const REVIEW_DECISIONS = ['approve', 'edit', 'reject'] as const;
export const ReviewDecisionKindSchema = z.enum(REVIEW_DECISIONS);

export const ReviewerSchema = z.object({
  /** The API key's non-secret fingerprint. */
  keyId: z.string(),
  role: z.enum(['reviewer', 'admin']),
});

export const REVIEW_DECIDED_V1 = 'troupe.review.decided.v1';
/** A reviewer decided (through intake); validation completes the job from it. */
export const ReviewDecidedV1Schema = z.object({
  jobId: z.string().uuid(),
  tenantId: z.string(),
  reviewId: z.string().uuid(),
  decision: ReviewDecisionKindSchema,
  /** The corrected output, for `edit` (already validated against the workflow's schema by intake). */
  output: z.unknown().optional(),
  comment: z.string().max(2000).optional(),
  reviewer: ReviewerSchema,
  decidedAt: z.string().datetime(),
});
export type ReviewDecidedV1 = z.infer<typeof ReviewDecidedV1Schema>;

export const JOB_REVIEW_EXPIRED_V1 = 'troupe.job.review-expired.v1';
/** A review waited past its deadline; the workflow's rule was applied. */
export const JobReviewExpiredV1Schema = z.object({
  jobId: z.string().uuid(),
  tenantId: z.string(),
  reviewId: z.string().uuid(),
  /** `reject`: the job is rejected (a job.rejected follows); `escalate`: the review now needs an admin. */
  action: z.enum(['reject', 'escalate']),
  dueAt: z.string().datetime(),
});
export type JobReviewExpiredV1 = z.infer<typeof JobReviewExpiredV1Schema>;

