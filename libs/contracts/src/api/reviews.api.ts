import { z } from 'zod';
import { FailureReasonSchema } from '../events/job-context';
import { ReviewDecisionKindSchema, ReviewerSchema } from '../events/review-decided.v1';

/** `cancelled`: its job was cancelled while the review waited. */
export const REVIEW_STATUSES = ['pending', 'escalated', 'decided', 'expired', 'cancelled'] as const;
export const ReviewStatusSchema = z.enum(REVIEW_STATUSES);
export type ReviewStatus = z.infer<typeof ReviewStatusSchema>;

export const ReviewDecisionRequestSchema = z
  .object({
    /** `approve` the output as it is, `edit` it (send `output`), or `reject` the job. */
    decision: ReviewDecisionKindSchema,
    /** The corrected output, required for `edit`; validated against the workflow's output schema. */
    output: z.unknown().optional(),
    comment: z.string().max(2000).optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.decision === 'edit' && body.output === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['output'], message: 'an edit needs the corrected output' });
    }
    if (body.decision !== 'edit' && body.output !== undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['output'], message: 'only an edit carries an output' });
    }
  });
export type ReviewDecisionRequest = z.infer<typeof ReviewDecisionRequestSchema>;

export const ReviewViewSchema = z.object({
  id: z.string().uuid(),
  jobId: z.string().uuid(),
  workflow: z.object({ id: z.string(), version: z.number().int() }),
  status: ReviewStatusSchema,
  label: z.string(),
  confidence: z.number(),
  /** The output awaiting a decision. */
  output: z.unknown(),
  /** The JSON Schema an edited output must satisfy. */
  outputSchema: z.record(z.string(), z.unknown()),
  input: z.object({ text: z.string() }),
  heldBecause: z.array(z.string()),
  findings: z.array(FailureReasonSchema),
  dueAt: z.string(),
  onDeadline: z.enum(['reject', 'escalate']),
  decision: z
    .object({
      decision: ReviewDecisionKindSchema,
      comment: z.string().optional(),
      reviewer: ReviewerSchema,
      decidedAt: z.string(),
    })
    .nullable(),
  requestedAt: z.string(),
});
export type ReviewView = z.infer<typeof ReviewViewSchema>;

export const ListReviewsQuerySchema = z
  .object({
    /** Default `pending` (which includes escalated reviews); `all` for every status. */
    status: z.enum([...REVIEW_STATUSES, 'all']).default('pending'),
    workflow: z.string().max(63).optional(),
    label: z.string().max(63).optional(),
    /** The review of one job. */
    job: z.string().uuid().optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    /** Opaque cursor from the previous page's `nextCursor`. */
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type ListReviewsQuery = z.infer<typeof ListReviewsQuerySchema>;

export const ReviewListSchema = z.object({
  items: z.array(ReviewViewSchema),
  nextCursor: z.string().nullable(),
});
export type ReviewList = z.infer<typeof ReviewListSchema>;
