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

/** `GET /v1/reviews/export`: decided reviews as JSONL (one line each), for evaluation datasets. */
export const ExportReviewsQuerySchema = z
  .object({
    /** Decided at or after / before (ISO 8601). */
    from: z.string().datetime({ offset: true }).optional(),
    to: z.string().datetime({ offset: true }).optional(),
    workflow: z.string().max(63).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  })
  .strict();
export type ExportReviewsQuery = z.infer<typeof ExportReviewsQuerySchema>;

/** One line of the export: what the model was given, what it produced, and what the reviewer decided. */
export const ReviewExampleSchema = z.object({
  reviewId: z.string().uuid(),
  jobId: z.string().uuid(),
  workflow: z.object({ id: z.string(), version: z.number().int() }),
  label: z.string(),
  input: z.object({ text: z.string() }),
  heldOutput: z.unknown(),
  heldBecause: z.array(z.string()),
  findings: z.array(FailureReasonSchema),
  decision: ReviewDecisionKindSchema,
  /** The reviewer's output for an edit; null otherwise. */
  editedOutput: z.unknown().nullable(),
  comment: z.string().nullable(),
  decidedAt: z.string(),
});
export type ReviewExample = z.infer<typeof ReviewExampleSchema>;
