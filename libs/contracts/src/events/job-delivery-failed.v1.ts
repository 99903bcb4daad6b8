import { z } from 'zod';

export const JOB_DELIVERY_FAILED_V1 = 'troupe.job.delivery-failed.v1';
export const JobDeliveryFailedV1Schema = z.object({
  jobId: z.string().uuid(),
  tenantId: z.string(),
  deliveryId: z.string(),
  url: z.string(),
  outcome: z.enum(['validated', 'rejected']),
  attempts: z.number().int().positive(),
  reason: z.string(),
});
export type JobDeliveryFailedV1 = z.infer<typeof JobDeliveryFailedV1Schema>;
