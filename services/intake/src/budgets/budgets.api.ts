import { z } from 'zod';

/** `POST /v1/admin/budgets`: a budget of the caller's tenant, optionally narrowed to a workflow or an API key. */
export const CreateBudgetRequestSchema = z
  .object({
    name: z.string().min(1).max(100),
    workflowId: z.string().min(1).max(63).optional(),
    /** An API key's id (the first 8 hex digits of its SHA-256, as the audit log shows it). */
    keyId: z.string().regex(/^[0-9a-f]{8}$/).optional(),
    period: z.enum(['day', 'month', 'none']),
    limitUsd: z.number().nonnegative().max(1e9),
    /** Soft thresholds as fractions of the limit, e.g. [0.5, 0.8, 1]. */
    thresholds: z.array(z.number().positive().max(10)).max(10).default([]),
    alertWebhook: z.object({ url: z.string().url() }).optional(),
  })
  .strict();
export type CreateBudgetRequest = z.infer<typeof CreateBudgetRequestSchema>;

/** A budget with its current period's counters. */
export const BudgetViewSchema = z.object({
  id: z.string().uuid(),
  name: z.string(),
  workflowId: z.string().optional(),
  keyId: z.string().optional(),
  period: z.enum(['day', 'month', 'none']),
  limitUsd: z.number(),
  thresholds: z.array(z.number()),
  alertWebhook: z.object({ url: z.string() }).optional(),
  current: z.object({
    periodStart: z.string(),
    resetsAt: z.string().nullable(),
    spentUsd: z.number(),
    reservedUsd: z.number(),
    remainingUsd: z.number(),
    thresholdsCrossed: z.array(z.number()),
  }),
});
export type BudgetView = z.infer<typeof BudgetViewSchema>;

/** The body of a 402 BUDGET_EXCEEDED, under `error.budget`. */
export const BudgetRefusalSchema = z.object({
  budget: z.object({
    id: z.string(),
    name: z.string(),
    workflowId: z.string().nullable(),
    keyId: z.string().nullable(),
    period: z.enum(['day', 'month', 'none']),
  }),
  limitUsd: z.number(),
  remainingUsd: z.number(),
  requiredUsd: z.number(),
  resetsAt: z.string().nullable(),
});
