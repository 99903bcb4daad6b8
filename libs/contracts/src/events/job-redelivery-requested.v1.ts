import { z } from 'zod';

/**
 * An operator or the tenant asked to send a job's result again (`POST /v1/jobs/:id/redeliver`, or
 * the replay of a delivery dead letter). Intake emits it; delivery re-sends the stored payload with
 * the same `webhook-id`, re-enabling a target an earlier 410 disabled.
 */
export const JOB_REDELIVERY_REQUESTED_V1 = 'troupe.job.redelivery-requested.v1';
export const JobRedeliveryRequestedV1Schema = z.object({
  jobId: z.string().uuid(),
  tenantId: z.string(),
  /** Who asked: `api:<tenant>:<role>` or `dead-letter:<id>`. */
  requestedBy: z.string(),
  requestedAt: z.string().datetime(),
});
export type JobRedeliveryRequestedV1 = z.infer<typeof JobRedeliveryRequestedV1Schema>;
