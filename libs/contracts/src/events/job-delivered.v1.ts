import { z } from 'zod';

export const JOB_DELIVERED_V1 = 'troupe.job.delivered.v1';
export const JobDeliveredV1Schema = z.object({
  jobId: z.string().uuid(),
  tenantId: z.string(),
  /** `webhook` when a target acknowledged it; `poll` when the job has no target and waits to be read. */
  channel: z.enum(['webhook', 'poll']),
  /** What the job ended with: the result was validated, or it was rejected with reasons. */
  outcome: z.enum(['validated', 'rejected']),
  deliveryId: z.string().optional(),
  url: z.string().optional(),
  attempts: z.number().int().nonnegative(),
});
export type JobDeliveredV1 = z.infer<typeof JobDeliveredV1Schema>;
