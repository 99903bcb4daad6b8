import { z } from 'zod';

export const JOB_CANCELLED_V1 = 'troupe.job.cancelled.v1';
/**
 * The job is cancelled for good: delivery saw the cancel request before any outcome, so no result
 * will be delivered (its target gets a `job.cancelled` notification instead).
 */
export const JobCancelledV1Schema = z.object({
  jobId: z.string().uuid(),
  tenantId: z.string(),
  requestedBy: z.string(),
  requestedAt: z.string().datetime(),
  reason: z.string().max(500).optional(),
  cancelledAt: z.string().datetime(),
});
export type JobCancelledV1 = z.infer<typeof JobCancelledV1Schema>;
