import { z } from 'zod';
import { FailureReasonSchema, JobInputSchema, WebhookTargetSchema } from '../events/job-context';
import { StepResultSchema } from '../events/step-result';

export const CreateJobRequestSchema = z
  .object({
    /** Workflow id, e.g. `support-ticket-reply`. */
    workflow: z.string().min(1).max(63),
    /** A version to pin; defaults to the newest version the intake knows. */
    workflowVersion: z.number().int().positive().optional(),
    input: JobInputSchema,
    /** Where to send the result; overrides the workflow's default target. */
    webhook: WebhookTargetSchema.optional(),
    /** Free-form string labels returned with the job (at most 20). */
    metadata: z
      .record(z.string().max(64), z.string().max(512))
      .refine((m) => Object.keys(m).length <= 20, { message: 'at most 20 metadata entries' })
      .optional(),
  })
  .strict();
export type CreateJobRequest = z.infer<typeof CreateJobRequestSchema>;

export const JOB_STATUSES = [
  'requested',
  'classified',
  'generated',
  'awaiting_review',
  'validated',
  'rejected',
  'delivered',
  'delivery_failed',
  'failed',
  'cancelled',
] as const;
export const JobStatusSchema = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatusSchema>;

export const TimelineEntrySchema = z.object({
  eventId: z.string(),
  type: z.string(),
  source: z.string(),
  time: z.string(),
  summary: z.string(),
});
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;

/** One model call of a job, as its cost ledger holds it. */
export const CostCallSchema = z.object({
  stage: z.string(),
  step: z.string().nullable(),
  stepRun: z.number().int().nullable(),
  generationAttempt: z.number().int().nullable(),
  model: z.string(),
  try: z.number().int(),
  outcome: z.string(),
  errorKind: z.string().nullable(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  costUsd: z.number(),
});

/** Totals of a group of a job's model calls. */
export const CostTotalSchema = z.object({ calls: z.number().int(), inputTokens: z.number().int(), outputTokens: z.number().int(), costUsd: z.number() });

/** What the job cost: every model call made for it, and sums by step and by model. */
export const JobCostSchema = z.object({
  totalUsd: z.number(),
  /** The job's budget reservation (absent: none) and whether it is settled. */
  reservedUsd: z.number().optional(),
  settled: z.boolean(),
  byStep: z.record(z.string(), CostTotalSchema),
  byModel: z.record(z.string(), CostTotalSchema),
  calls: z.array(CostCallSchema),
});
export type JobCost = z.infer<typeof JobCostSchema>;

export const JobViewSchema = z.object({
  id: z.string().uuid(),
  tenantId: z.string(),
  workflow: z.object({ id: z.string(), version: z.number().int() }),
  status: JobStatusSchema,
  /** How the job ended, once it has: its output passed validation, was rejected, the job failed, or it was cancelled. */
  outcome: z.enum(['succeeded', 'rejected', 'failed', 'cancelled']).nullable(),
  /** The validated output, once there is one. */
  result: z.unknown().optional(),
  /** Why the job was rejected or failed. */
  errors: z.array(FailureReasonSchema).optional(),
  /** Sum of every model call made for the job (all stages, tries, fallbacks, steps, regenerations). */
  costUsd: z.number().optional(),
  /** `GET /v1/jobs/:id` only: the cost per call, step and model. */
  cost: JobCostSchema.optional(),
  /** The steps of the workflow's graph by id, as they finish: status, output, model, cost, why. */
  steps: z.record(z.string(), StepResultSchema.partial({ attempts: true, decisions: true })).optional(),
  metadata: z.record(z.string(), z.string()),
  /** The classification label, once classified. */
  label: z.string().optional(),
  /** The `Idempotency-Key` the job was submitted with. */
  idempotencyKey: z.string().optional(),
  /** When the job's payloads were erased (its retention passed, or `DELETE /v1/jobs/:id/data`). */
  dataErasedAt: z.string().optional(),
  /** A shadow job: the replay that made it and the job it re-runs (it is delivered nowhere). */
  shadow: z.object({ replayId: z.string().uuid(), originalJobId: z.string().uuid() }).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  timeline: z.array(TimelineEntrySchema).optional(),
});
export type JobView = z.infer<typeof JobViewSchema>;

export const EraseJobDataResponseSchema = z.object({
  id: z.string().uuid(),
  status: z.literal('data_erased'),
  /** When intake erased its copy; the other services erase theirs as they read the event. */
  erasedAt: z.string(),
  links: z.object({ self: z.string() }),
});
export type EraseJobDataResponse = z.infer<typeof EraseJobDataResponseSchema>;

export const CreateJobResponseSchema = z.object({
  id: z.string().uuid(),
  status: JobStatusSchema,
  workflow: z.object({ id: z.string(), version: z.number().int() }),
  links: z.object({ self: z.string() }),
});
export type CreateJobResponse = z.infer<typeof CreateJobResponseSchema>;

/** `POST /v1/jobs/:id/cancel`: the body is optional. */
export const CancelJobRequestSchema = z
  .object({
    /** Why, for the timeline and the `job.cancelled` notification (at most 500 characters). */
    reason: z.string().min(1).max(500).optional(),
  })
  .strict();
export type CancelJobRequest = z.infer<typeof CancelJobRequestSchema>;

export const CancelJobResponseSchema = z.object({
  id: z.string().uuid(),
  /** `cancel_requested` until the job ends; the job's own status then says whether the cancel came in time. */
  status: z.enum(['cancel_requested', 'cancelled']),
  requestedAt: z.string(),
  links: z.object({ self: z.string() }),
});
export type CancelJobResponse = z.infer<typeof CancelJobResponseSchema>;

export const ListJobsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    /** Opaque cursor from the previous page's `nextCursor`. */
    cursor: z.string().max(200).optional(),
    status: JobStatusSchema.optional(),
    /** A workflow id. */
    workflow: z.string().min(1).max(63).optional(),
    /** The classification label. */
    label: z.string().min(1).max(63).optional(),
    /** Created at or after / before this time (ISO 8601). */
    from: z.string().datetime({ offset: true }).optional(),
    to: z.string().datetime({ offset: true }).optional(),
    /** A job id or an `Idempotency-Key` the job was submitted with (exact match). */
    q: z.string().min(1).max(255).optional(),
    /** The shadow jobs of this replay (shadow jobs are left out of every other listing). */
    replay: z.string().uuid().optional(),
  })
  .strict();
export type ListJobsQuery = z.infer<typeof ListJobsQuerySchema>;

export const JobListSchema = z.object({
  /** Without timelines and steps: `GET /v1/jobs/:id` has those. */
  items: z.array(JobViewSchema.omit({ timeline: true, steps: true })),
  nextCursor: z.string().nullable(),
});
export type JobList = z.infer<typeof JobListSchema>;

export const ErrorResponseSchema = z.object({
  error: z.object({
    code: z.string().describe('Machine-readable SCREAMING_SNAKE code'),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;
