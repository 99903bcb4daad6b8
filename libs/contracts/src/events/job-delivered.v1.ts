import { z } from 'zod';

export const JOB_DELIVERED_V1 = 'troupe.job.delivered.v1';
export const JobDeliveredV1Schema = z.object({
  jobId: z.string().uuid(),
  tenantId: z.string(),
  /**
   * `webhook` when a target acknowledged it; `topic` when it was published to the workflow's result
   * topic; `poll` when the job has no target and waits to be read.
   */
  channel: z.enum(['webhook', 'poll', 'topic']),
  /** What the job ended with: the result was validated, rejected with reasons, the job failed, or it was cancelled. */
  outcome: z.enum(['validated', 'rejected', 'failed', 'cancelled']),
  /** The result topic, for `channel: topic`. */
  topic: z.string().optional(),
  /** For `channel: topic`: a webhook delivery of the same outcome is still to come. */
  webhookPending: z.boolean().optional(),
  deliveryId: z.string().optional(),
  url: z.string().optional(),
  attempts: z.number().int().nonnegative(),
});
export type JobDeliveredV1 = z.infer<typeof JobDeliveredV1Schema>;
