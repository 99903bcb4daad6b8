import { z } from 'zod';
import { WebhookTargetSchema } from './job-context';

export const JOB_CANCEL_REQUESTED_V1 = 'troupe.job.cancel-requested.v1';
/**
 * Someone asked to stop a job (`POST /v1/jobs/:id/cancel`). Every stage drops the job at its next
 * boundary (generation aborts its model calls in flight); delivery decides whether the cancel came
 * in time and, if so, emits `job.cancelled`.
 */
export const JobCancelRequestedV1Schema = z.object({
  jobId: z.string().uuid(),
  tenantId: z.string(),
  /** Who asked: `api:<tenant>:<role>`. */
  requestedBy: z.string(),
  requestedAt: z.string().datetime(),
  reason: z.string().max(500).optional(),
  /** The job's target, so delivery can send the `job.cancelled` notification without its job.requested. */
  webhook: WebhookTargetSchema.optional(),
  workflow: z.object({ id: z.string(), version: z.number().int() }),
  metadata: z.record(z.string(), z.string()).default({}),
});
export type JobCancelRequestedV1 = z.infer<typeof JobCancelRequestedV1Schema>;
