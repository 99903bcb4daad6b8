import { z } from 'zod';
import { JobInputSchema, WebhookTargetSchema } from './job-context';

/**
 * The topic other systems publish work to (event-driven automation). Intake consumes it; each
 * signal becomes a job, once per `signalId` and tenant.
 */
export const SIGNALS_TOPIC = 'troupe.signals';

/**
 * A signal: the Kafka value is this JSON object (no CloudEvents headers needed). Whoever may write
 * to the topic may submit work for the tenant it names: guard the topic with Kafka ACLs.
 */
export const SignalV1Schema = z
  .object({
    /** The sender's id for this piece of work; a repeated id creates nothing new. 1-200 printable characters. */
    signalId: z.string().regex(/^[\x21-\x7e]{1,200}$/, '1-200 printable ASCII characters'),
    /** The tenant the job belongs to; must be a tenant intake knows (one with an API key). */
    tenantId: z.string().min(1).max(63),
    workflow: z.string().min(1).max(63),
    workflowVersion: z.number().int().positive().optional(),
    input: JobInputSchema,
    webhook: WebhookTargetSchema.optional(),
    metadata: z
      .record(z.string().max(64), z.string().max(512))
      .refine((m) => Object.keys(m).length <= 20, { message: 'at most 20 metadata entries' })
      .optional(),
  })
  .strict();
export type SignalV1 = z.infer<typeof SignalV1Schema>;
