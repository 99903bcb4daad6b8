import { z } from 'zod';

export const JOB_DELIVERY_FAILED_V1 = 'troupe.job.delivery-failed.v1';
export const JobDeliveryFailedV1Schema = z.object({
  jobId: z.string().uuid(),
  tenantId: z.string(),
  deliveryId: z.string(),
  url: z.string(),
  outcome: z.enum(['validated', 'rejected', 'failed', 'cancelled']),
  /** Zero when nothing was sent (the target was disabled by an earlier 410, or refused by the egress policy). */
  attempts: z.number().int().nonnegative(),
  reason: z.string(),
  /** `HTTP_<status>`, `TARGET_DISABLED`, `WEBHOOK_URL_FORBIDDEN`, `WEBHOOK_UNREACHABLE`, `WEBHOOK_TIMEOUT`... */
  code: z.string().optional(),
  /** The target answered 410 Gone and is disabled for later jobs. */
  targetDisabled: z.boolean().optional(),
});
export type JobDeliveryFailedV1 = z.infer<typeof JobDeliveryFailedV1Schema>;
