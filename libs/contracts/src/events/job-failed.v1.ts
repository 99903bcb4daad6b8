import { z } from 'zod';

export const JOB_FAILED_V1 = 'troupe.job.failed.v1';
export const JobFailedV1Schema = z.object({
  jobId: z.string(),
  tenantId: z.string(),
  /** The stage that gave up on the job. */
  stage: z.string(),
  code: z.string(),
  reason: z.string(),
});
export type JobFailedV1 = z.infer<typeof JobFailedV1Schema>;
