import { z } from 'zod';

export const JOB_REVIEW_EXPIRED_V1 = 'troupe.job.review-expired.v1';
/** A review waited past its deadline; the workflow's rule was applied. */
export const JobReviewExpiredV1Schema = z.object({
  jobId: z.string().uuid(),
  tenantId: z.string(),
  reviewId: z.string().uuid(),
  /** `reject`: the job is rejected (a job.rejected follows); `escalate`: the review now needs an admin. */
  action: z.enum(['reject', 'escalate']),
  dueAt: z.string().datetime(),
});
export type JobReviewExpiredV1 = z.infer<typeof JobReviewExpiredV1Schema>;
