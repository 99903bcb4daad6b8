import { CommonConfigSchema } from '@troupe/config';
import type { ServiceDefinition } from '@troupe/runtime';
import { allowlistProblem } from '@troupe/egress';
import { z } from 'zod';
import { Deliveries1763800000001 } from './migrations/1763800000001-deliveries';
import { TargetsAndRounds1764000000001 } from './migrations/1764000000001-targets-and-rounds';
import { JobOutcomes1765000000001 } from './migrations/1765000000001-job-outcomes';
import { DeliveryKinds1772000000000 } from './migrations/1772000000000-delivery-kinds';
import { DeliveryEntity } from './webhooks/delivery.entity';

export const DeliveryConfigSchema = CommonConfigSchema.extend({
  /**
   * Webhook signing secrets (Standard Webhooks `whsec_<base64>`), comma-separated `<tenant>=<secret>`;
   * `*=<secret>` applies to every tenant without its own.
   */
  TROUPE_WEBHOOK_SECRETS: z
    .string({ required_error: 'required: at least one <tenant>=whsec_... entry (or *=whsec_...)' })
    .min(1),
  TROUPE_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** Attempts (per round: a redelivery starts a new one) before a delivery is dead-lettered. */
  TROUPE_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  /** Backoff before the n-th retry: random in [0, min(max, base * 2^(n-1))) (full jitter). */
  TROUPE_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(1).default(2_000),
  TROUPE_WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(1).default(60 * 60_000),
  /**
   * No attempt is scheduled later than this after a delivery (or redelivery) started: a delivery still
   * failing then, or a `Retry-After` pointing beyond it, is dead-lettered.
   */
  TROUPE_WEBHOOK_RETRY_HORIZON_MS: z.coerce.number().int().min(1_000).default(24 * 60 * 60_000),
  /**
   * Non-public webhook targets allowed anyway (comma-separated IPs, CIDRs or exact host names), e.g.
   * `127.0.0.1` for a local receiver. Checked again at connect time, against the address connected to.
   */
  TROUPE_EGRESS_ALLOWLIST: z
    .string()
    .default('')
    .superRefine((spec, ctx) => {
      const problem = allowlistProblem(spec);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    }),
  /** How often due retries are looked for; new deliveries wake the dispatcher at their commit. */
  TROUPE_DELIVERY_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** Webhooks sent at once by one replica. */
  TROUPE_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
});
export type DeliveryConfig = z.infer<typeof DeliveryConfigSchema>;

export const deliveryDefinition: ServiceDefinition<typeof DeliveryConfigSchema> = {
  service: 'delivery',
  configSchema: DeliveryConfigSchema,
  entities: [DeliveryEntity],
  migrations: [Deliveries1763800000001, TargetsAndRounds1764000000001, JobOutcomes1765000000001, DeliveryKinds1772000000000],
  defaultPort: 3004,
};
