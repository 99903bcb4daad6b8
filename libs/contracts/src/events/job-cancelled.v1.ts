import { z } from 'zod';
import { JobCancelRequestedV1Schema } from './job-cancel-requested.v1';

export const JOB_CANCELLED_V1 = 'troupe.job.cancelled.v1';
/**
 * The job is cancelled for good: delivery saw the cancel request before any outcome, so no result
 * will be delivered (its target gets a `job.cancelled` notification instead).
 */
export const JobCancelledV1Schema = JobCancelRequestedV1Schema.pick({
  jobId: true,
  tenantId: true,
  requestedBy: true,
  requestedAt: true,
  reason: true,
}).extend({ cancelledAt: z.string().datetime() });
export type JobCancelledV1 = z.infer<typeof JobCancelledV1Schema>;
