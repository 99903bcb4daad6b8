import { z } from 'zod';

export const JOB_DATA_ERASE_REQUESTED_V1 = 'troupe.job.data-erase-requested.v1';
/**
 * A finished job's payloads are to be erased from every service's store: its retention period
 * passed, or someone asked (`DELETE /v1/jobs/:id/data`). Intake has erased its own in the transaction
 * that emitted this; each other service erases its own when it handles it. The job's metadata,
 * status and cost remain. Carries no payload itself.
 */
export const JobDataEraseRequestedV1Schema = z.object({
  jobId: z.string().uuid(),
  tenantId: z.string(),
  reason: z.enum(['retention', 'request']),
  /** Who asked: `api:<tenant>:<role>:<key id>`, or `retention` for the sweep. */
  requestedBy: z.string(),
  requestedAt: z.string().datetime(),
});
export type JobDataEraseRequestedV1 = z.infer<typeof JobDataEraseRequestedV1Schema>;
