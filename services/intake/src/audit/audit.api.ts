import { z } from 'zod';

export const ListAuditQuerySchema = z
  .object({
    /** Platform keys only: one tenant's entries (default: every tenant's). */
    tenant: z.string().max(64).optional(),
    action: z.string().max(100).optional(),
    keyId: z.string().max(100).optional(),
    targetId: z.string().max(200).optional(),
    outcome: z.enum(['succeeded', 'failed']).optional(),
    since: z.string().datetime({ offset: true }).optional(),
    until: z.string().datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type ListAuditQuery = z.infer<typeof ListAuditQuerySchema>;

export const AuditEntrySchema = z.object({
  id: z.string(),
  at: z.string(),
  tenantId: z.string(),
  keyId: z.string(),
  role: z.string(),
  action: z.string().describe('`<noun>.<verb>`: job.create, job.cancel, job.redeliver, review.decide, dead-letter.replay, key.create, key.revoke, …'),
  targetType: z.string(),
  targetId: z.string().nullable(),
  outcome: z.enum(['succeeded', 'failed']),
  status: z.number().int().nullable(),
  errorCode: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

export const AuditListSchema = z.object({ items: z.array(AuditEntrySchema), nextCursor: z.string().nullable() });
