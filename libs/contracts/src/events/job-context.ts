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
});
export type Classification = z.infer<typeof ClassificationSchema>;

export const UsageSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
});

export const GenerationSchema = z.object({
  model: z.string(),
  route: z.string(),
  output: z.unknown(),
  finishReason: z.string(),
  usage: UsageSchema,
  costUsd: z.number().nonnegative(),
  latencyMs: z.number().nonnegative(),
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
