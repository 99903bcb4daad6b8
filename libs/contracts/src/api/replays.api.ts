import { z } from 'zod';
import { FailureReasonSchema } from '../events/job-context';
import { ModelRefSchema, StepIdSchema } from '../workflow/workflow-definition';
import { JobStatusSchema } from './jobs.api';

/** Most past jobs one replay re-runs. */
export const MAX_REPLAY_JOBS = 500;

/** What the shadow jobs run on instead of what the originals ran on. */
export const ReplayTargetSchema = z
  .object({
    /** Another version of the originals' workflow (default: the version each original ran). */
    workflowVersion: z.number().int().positive().optional(),
    /** Every model step (or those in `steps`) calls this one model instead of its plan. */
    model: ModelRefSchema.optional(),
    /** Every model step (or those in `steps`) uses these instructions, recorded as prompt `version`. */
    prompt: z.object({ instructions: z.string().min(1).max(20_000), version: z.number().int().positive() }).strict().optional(),
    /** Limit `model` and `prompt` to these step ids (`generate` is the step `generation.routes` makes). */
    steps: z.array(StepIdSchema).min(1).max(100).optional(),
  })
  .strict()
  .refine((t) => t.workflowVersion !== undefined || t.model !== undefined || t.prompt !== undefined, {
    message: 'name a workflowVersion, a model or a prompt to replay on',
  })
  .refine((t) => !t.steps || t.model !== undefined || t.prompt !== undefined, { message: '`steps` narrows `model` or `prompt`: name one' });
export type ReplayTarget = z.infer<typeof ReplayTargetSchema>;

/** A window of past jobs, newest first. */
export const ReplayWindowSchema = z
  .object({
    workflow: z.string().min(1).max(63),
    /** Created at or after / before (ISO 8601). */
    from: z.string().datetime({ offset: true }).optional(),
    to: z.string().datetime({ offset: true }).optional(),
    label: z.string().min(1).max(63).optional(),
    /** Default: every job that has finished. */
    status: JobStatusSchema.optional(),
    limit: z.number().int().min(1).max(MAX_REPLAY_JOBS).default(100),
  })
  .strict();

export const CreateReplayRequestSchema = z
  .object({
    /** Past jobs by id (one workflow), or `window`. */
    jobs: z.array(z.string().uuid()).min(1).max(MAX_REPLAY_JOBS).optional(),
    window: ReplayWindowSchema.optional(),
    target: ReplayTargetSchema,
    /** Reserve the shadow jobs' cost against the tenant's budgets like any job (default: they touch no budget). */
    chargeBudget: z.boolean().default(false),
    /**
     * Reference answers by original job id (e.g. from `GET /v1/reviews/export`), compared with each
     * shadow's output. Without one, a reviewed original's decision is its reference.
     */
    references: z
      .array(z.object({ jobId: z.string().uuid(), output: z.unknown() }).strict())
      .max(MAX_REPLAY_JOBS)
      .optional(),
  })
  .strict()
  .refine((r) => (r.jobs === undefined) !== (r.window === undefined), { message: 'name either `jobs` or `window`', path: ['jobs'] });
export type CreateReplayRequest = z.infer<typeof CreateReplayRequestSchema>;

/** How a job's output fared at the gates. `review`: held for a person (a shadow: would have been). */
export const VerdictSchema = z.enum(['validated', 'review', 'rejected', 'failed', 'cancelled', 'pending']);
export type Verdict = z.infer<typeof VerdictSchema>;

/** One side of a comparison: an original job or its shadow. */
export const ReplaySideSchema = z.object({
  jobId: z.string().uuid(),
  workflow: z.object({ id: z.string(), version: z.number().int() }),
  status: JobStatusSchema,
  verdict: VerdictSchema,
  /** Rejection or failure reasons. */
  reasons: z.array(FailureReasonSchema),
  /** Review rules that held the output (a shadow's: would have held it), and the flagged findings. */
  heldBecause: z.array(z.string()),
  findings: z.array(FailureReasonSchema),
  output: z.unknown().optional(),
  costUsd: z.number(),
  /** From creation to the job's end (an original held for review includes the reviewer's time). */
  latencyMs: z.number().nullable(),
  /** The model calls' own time, summed: comparable whatever the queueing and reviews. */
  modelLatencyMs: z.number(),
});
export type ReplaySide = z.infer<typeof ReplaySideSchema>;

/** An output compared with another: equal, how (RFC 6902 operations from one to the other), how close. */
export const OutputComparisonSchema = z.object({
  exact: z.boolean(),
  /** 0..1: the share of the two outputs' leaf values that agree, strings by edit distance. */
  similarity: z.number().min(0).max(1),
  /** JSON Patch (RFC 6902) turning the first into the second; at most 50 operations. */
  diff: z.array(z.object({ op: z.string(), path: z.string(), value: z.unknown().optional(), from: z.string().optional() })),
  diffTruncated: z.boolean(),
});
export type OutputComparison = z.infer<typeof OutputComparisonSchema>;

export const ReplayComparisonSchema = z.object({
  original: ReplaySideSchema,
  shadow: ReplaySideSchema,
  verdictChanged: z.boolean(),
  costDeltaUsd: z.number(),
  /** Original output to shadow output; absent until both have one. */
  output: OutputComparisonSchema.optional(),
  /** The reference answer (given, or the original's review decision) and the shadow's output against it. */
  reference: z
    .object({
      source: z.enum(['given', 'review']),
      decision: z.enum(['approve', 'edit', 'reject']).optional(),
      output: z.unknown().optional(),
      comparison: OutputComparisonSchema.optional(),
    })
    .optional(),
});
export type ReplayComparison = z.infer<typeof ReplayComparisonSchema>;

const VerdictCountsSchema = z.record(VerdictSchema, z.number().int());
const LatencySchema = z.object({ p50: z.number().nullable(), p95: z.number().nullable() });

export const ReplayAggregateSchema = z.object({
  jobs: z.number().int(),
  /** Pairs whose shadow has finished. */
  finished: z.number().int(),
  costUsd: z.object({ original: z.number(), shadow: z.number(), delta: z.number() }),
  latencyMs: z.object({ original: LatencySchema, shadow: LatencySchema }),
  modelLatencyMs: z.object({ original: LatencySchema, shadow: LatencySchema }),
  verdicts: z.object({ original: VerdictCountsSchema, shadow: VerdictCountsSchema, changed: z.number().int() }),
  /** Over finished pairs where both have an output. */
  outputs: z.object({ compared: z.number().int(), exact: z.number().int(), meanSimilarity: z.number().nullable() }),
  references: z.object({ compared: z.number().int(), exact: z.number().int(), meanSimilarity: z.number().nullable() }),
});
export type ReplayAggregate = z.infer<typeof ReplayAggregateSchema>;

export const ReplayViewSchema = z.object({
  id: z.string().uuid(),
  tenantId: z.string(),
  status: z.enum(['running', 'completed']),
  workflow: z.object({ id: z.string() }),
  target: ReplayTargetSchema,
  chargeBudget: z.boolean(),
  jobs: z.number().int(),
  /** Originals left out: their data was erased. */
  skipped: z.array(z.object({ jobId: z.string().uuid(), reason: z.string() })),
  createdAt: z.string(),
  /** When the last shadow finished. */
  completedAt: z.string().nullable(),
  links: z.object({ self: z.string(), jobs: z.string() }),
});
export type ReplayView = z.infer<typeof ReplayViewSchema>;

export const ReplayReportSchema = ReplayViewSchema.extend({
  aggregate: ReplayAggregateSchema,
  comparisons: z.array(ReplayComparisonSchema),
});
export type ReplayReport = z.infer<typeof ReplayReportSchema>;

export const ListReplaysQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }).strict();
export const ReplayListSchema = z.object({ items: z.array(ReplayViewSchema) });
export type ReplayList = z.infer<typeof ReplayListSchema>;
