import { z } from 'zod';
import { WorkflowSnapshotSchema } from '../workflow/workflow-definition';

export const JobInputSchema = z.object({
  /** The text to work on. Treated strictly as data: never as instructions. */
  text: z.string().min(1),
});
export type JobInput = z.infer<typeof JobInputSchema>;

export const WebhookTargetSchema = z.object({ url: z.string().url() });
export type WebhookTarget = z.infer<typeof WebhookTargetSchema>;

/** What every stage needs to know about a job; carried by each event so no stage asks another. */
export const JobContextSchema = z.object({
  jobId: z.string().uuid(),
  tenantId: z.string().min(1),
  workflow: WorkflowSnapshotSchema,
  input: JobInputSchema,
  webhook: WebhookTargetSchema.optional(),
  metadata: z.record(z.string(), z.string()).default({}),
  /** When the job's model work must be done by (from the workflow's `deadlineSeconds`); absent: no job deadline. */
  deadlineAt: z.string().datetime({ offset: true }).optional(),
  /**
   * The job's cost reservation against its tenant's budgets (absent: no budget applies). Generation
   * starts no model call whose worst case would take the job's cost past `reservedUsd`.
   */
  budget: z.object({ reservedUsd: z.number().nonnegative() }).optional(),
  /**
   * A shadow job of a replay (docs/replay.md): it runs through every stage like any job, but delivery
   * sends it nowhere and the review rules do not hold it (they record that they would have).
   */
  shadow: z.object({ replayId: z.string().uuid(), originalJobId: z.string().uuid() }).optional(),
});
export type JobContext = z.infer<typeof JobContextSchema>;

export const ClassificationSchema = z.object({
  label: z.string(),
  confidence: z.number().min(0).max(1),
  language: z.string(),
  sentiment: z.object({ score: z.number(), comparative: z.number(), label: z.enum(['negative', 'neutral', 'positive']) }),
  model: z.string(),
  /** Why the label was chosen (matched keywords and similar), for the timeline. */
  signals: z.array(z.string()).default([]),
  /** LLM classifier only: its model calls and their cost. */
  attempts: z.array(z.lazy(() => ModelAttemptSchema)).optional(),
  costUsd: z.number().nonnegative().optional(),
});
export type Classification = z.infer<typeof ClassificationSchema>;

export const UsageSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
});

/** One try of one model: what it cost and how it ended. */
export const ModelAttemptSchema = z.object({
  model: z.string(),
  /** 1 for the first call of this model in this step, 2.. for retries. */
  try: z.number().int().positive(),
  outcome: z.enum(['succeeded', 'failed']),
  /** For failures: the error class, e.g. RATE_LIMITED, UNAVAILABLE, TIMEOUT, CIRCUIT_OPEN. */
  errorKind: z.string().optional(),
  error: z.string().optional(),
  latencyMs: z.number().nonnegative(),
  usage: UsageSchema.optional(),
  costUsd: z.number().nonnegative().default(0),
  confidence: z.number().min(0).max(1).optional(),
  providerRequestId: z.string().optional(),
  /** How many values of personal data were replaced with placeholders before the call (never which). */
  redactions: z.number().int().nonnegative().optional(),
});
export type ModelAttempt = z.infer<typeof ModelAttemptSchema>;

/** Why the router did what it did: the timeline's explanation of the chosen model. */
export const RoutingDecisionSchema = z.object({
  action: z.enum(['selected', 'fallback', 'escalated', 'skipped', 'merged', 'accepted', 'kept']),
  model: z.string(),
  reason: z.string(),
});
export type RoutingDecision = z.infer<typeof RoutingDecisionSchema>;

export const GenerationSchema = z.object({
  /** The model whose output is used (for `parallel`, the models joined with `+`). */
  model: z.string(),
  route: z.string(),
  output: z.unknown(),
  finishReason: z.string(),
  /** Usage summed over every attempt of this generation (every step of a multi-step workflow). */
  usage: UsageSchema,
  /**
   * Cost of every model call generation made for the job so far: every attempt, fallback and step,
   * and earlier generations of the repair loop (failed attempts that reported usage included).
   */
  costUsd: z.number().nonnegative(),
  latencyMs: z.number().nonnegative(),
  // Added with the model layer (all optional or defaulted: older events still parse).
  strategy: z.string().optional(),
  confidence: z.number().min(0).max(1).optional(),
  promptVersion: z.number().int().positive().optional(),
  /** 1 for the first generation of a job, 2.. when validation asked for a regeneration. */
  attempt: z.number().int().positive().optional(),
  providerRequestId: z.string().optional(),
  attempts: z.array(ModelAttemptSchema).default([]),
  decisions: z.array(RoutingDecisionSchema).default([]),
});
export type Generation = z.infer<typeof GenerationSchema>;

export const FailureReasonSchema = z.object({
  code: z.string(),
  message: z.string(),
  /** JSON pointer into the output, for schema violations. */
  path: z.string().optional(),
  /** The generation attempt that failed this way, when the repair loop ran more than one. */
  attempt: z.number().int().positive().optional(),
});
export type FailureReason = z.infer<typeof FailureReasonSchema>;
