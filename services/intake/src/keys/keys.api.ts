import { z } from 'zod';
import { ROLES } from '../auth/api-keys';

/** Per-key limits; what is absent falls back to the configured defaults. */
export const RateLimitSettingsSchema = z
  .object({
    /** Sustained requests per second. */
    requestsPerSecond: z.number().positive().max(100_000).optional(),
    /** Requests that may arrive at once above the sustained rate (the bucket's size). */
    burst: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict();
export type RateLimitSettings = z.infer<typeof RateLimitSettingsSchema>;

export const CreateApiKeyRequestSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    role: z.enum(ROLES),
    /** Platform keys only: the tenant the new key belongs to (an admin creates keys of its own tenant). */
    tenant: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .optional(),
    expiresAt: z
      .string()
      .datetime({ offset: true })
      .refine((t) => Date.parse(t) > Date.now(), { message: 'must be in the future' })
      .optional(),
    rateLimit: RateLimitSettingsSchema.optional(),
  })
  .strict();
export type CreateApiKeyRequest = z.infer<typeof CreateApiKeyRequestSchema>;

export const ApiKeyViewSchema = z.object({
  id: z.string().uuid(),
  tenantId: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  /** The key's first characters, to recognise it; never enough to use it. */
  prefix: z.string(),
  rateLimit: RateLimitSettingsSchema,
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
});
export type ApiKeyView = z.infer<typeof ApiKeyViewSchema>;

/** The create response: the only time the key itself is shown. */
export const CreatedApiKeySchema = ApiKeyViewSchema.extend({
  key: z.string().describe('The key: shown once, store it now; only its hash is kept'),
});

export const ListApiKeysQuerySchema = z
  .object({
    /** Platform keys only: another tenant's keys. */
    tenant: z.string().max(64).optional(),
    revoked: z.enum(['true', 'false']).optional(),
  })
  .strict();
export type ListApiKeysQuery = z.infer<typeof ListApiKeysQuerySchema>;
