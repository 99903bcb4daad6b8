import { z } from 'zod';

export const USAGE_GROUPS = ['workflow', 'model', 'key', 'day'] as const;

/** `GET /v1/usage`: jobs created in [from, to), grouped. */
export const UsageQuerySchema = z
  .object({
    from: z.string().datetime({ offset: true }).optional(),
    to: z.string().datetime({ offset: true }).optional(),
    groupBy: z.enum(USAGE_GROUPS).default('workflow'),
    /** Platform operators only: one tenant, or `*` for every tenant (the default for them). */
    tenant: z.string().min(1).max(64).optional(),
  })
  .strict();
export type UsageQuery = z.infer<typeof UsageQuerySchema>;

const Attainment = z.object({ target: z.number(), actual: z.number().nullable(), met: z.boolean().nullable() });

export const UsageGroupSchema = z.object({
  key: z.string(),
  jobs: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  tokens: z.object({ input: z.number().int(), output: z.number().int() }),
  costUsd: z.number(),
  /** Every model call of the group's jobs (all tries and fallbacks, failed jobs' too) over its delivered jobs. */
  costPerSuccessfulJobUsd: z.number().nullable(),
  latencyMs: z.object({ p50: z.number().nullable(), p95: z.number().nullable() }),
  /** `groupBy=workflow`, for a workflow that declares objectives: their attainment in the window. */
  slo: z.object({ delivered: Attainment.optional(), latencyP95Ms: Attainment.optional() }).optional(),
});

export const UsageResponseSchema = z.object({
  from: z.string(),
  to: z.string(),
  groupBy: z.enum(USAGE_GROUPS),
  groups: z.array(UsageGroupSchema),
});
export type UsageResponse = z.infer<typeof UsageResponseSchema>;
