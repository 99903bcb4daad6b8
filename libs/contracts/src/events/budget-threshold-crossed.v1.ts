import { z } from 'zod';

export const BUDGET_THRESHOLD_CROSSED_V1 = 'troupe.budget.threshold-crossed.v1';

/**
 * A budget's spending in its current period passed one of its soft thresholds (emitted once per
 * threshold per period). `jobId` is the job whose cost crossed it (the event's key and subject).
 */
export const BudgetThresholdCrossedV1Schema = z.object({
  jobId: z.string().uuid(),
  tenantId: z.string(),
  budget: z.object({ id: z.string(), name: z.string(), workflowId: z.string().optional(), keyId: z.string().optional() }),
  /** The threshold as a fraction of the limit, e.g. 0.8. */
  threshold: z.number().positive(),
  limitUsd: z.number().nonnegative(),
  spentUsd: z.number().nonnegative(),
  periodStart: z.string().datetime({ offset: true }),
  resetsAt: z.string().datetime({ offset: true }).nullable(),
  /** Where the tenant wants budget alerts (a signed webhook), when it set one. */
  alertWebhook: z.object({ url: z.string().url() }).optional(),
  crossedAt: z.string().datetime({ offset: true }),
});
export type BudgetThresholdCrossedV1 = z.infer<typeof BudgetThresholdCrossedV1Schema>;
