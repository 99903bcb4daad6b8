import { z } from 'zod';

export const JOB_DELIVERY_ATTEMPTED_V1 = 'troupe.job.delivery-attempted.v1';
export const JobDeliveryAttemptedV1Schema = z.object({
  jobId: z.string().uuid(),
  tenantId: z.string(),
  deliveryId: z.string(),
  url: z.string(),
  attempt: z.number().int().positive(),
  outcome: z.enum(['succeeded', 'retrying', 'failed']),
  statusCode: z.number().int().optional(),
  error: z.string().optional(),
  latencyMs: z.number().nonnegative(),
  nextAttemptAt: z.string().datetime().optional(),
});
export type JobDeliveryAttemptedV1 = z.infer<typeof JobDeliveryAttemptedV1Schema>;
