import { z } from 'zod';

/**
 * What delivery publishes on a workflow's result topic (`delivery.topic`, `troupe.results.<name>`):
 * the same body a webhook receiver gets, with the usual CloudEvents headers (`ce_type` is
 * `troupe.job.result.v1`, `ce_subject` the job id; the key is the job id).
 */
export const JOB_RESULT_V1 = 'troupe.job.result.v1';
export const JobResultV1Schema = z.object({
  jobId: z.string().uuid(),
  tenantId: z.string(),
  /** `job.completed`, `job.rejected`, `job.failed` or `job.cancelled`: the webhook's `type`. */
  type: z.enum(['job.completed', 'job.rejected', 'job.failed', 'job.cancelled']),
  timestamp: z.string(),
  /** The webhook's `data`. */
  data: z.record(z.string(), z.unknown()),
});
export type JobResultV1 = z.infer<typeof JobResultV1Schema>;
