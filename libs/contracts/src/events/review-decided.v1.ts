import { z } from 'zod';

export const REVIEW_DECISIONS = ['approve', 'edit', 'reject'] as const;
export const ReviewDecisionKindSchema = z.enum(REVIEW_DECISIONS);

export const ReviewerSchema = z.object({
  /** The API key's non-secret fingerprint. */
  keyId: z.string(),
  role: z.enum(['reviewer', 'admin', 'platform']),
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
