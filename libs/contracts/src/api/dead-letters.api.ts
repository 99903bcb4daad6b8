import { z } from 'zod';
import { SERVICES } from '../topics';

/** A dead-lettered message as the admin API shows it (indexed by intake from `troupe.dlq.<stage>`). */
export const DeadLetterViewSchema = z.object({
  /** `<stage>:<partition>:<offset>` of the dead-letter record. */
  id: z.string(),
  stage: z.enum(SERVICES),
  /** Where the message came from (`webhook` for a delivery that could not be sent). */
  originalTopic: z.string(),
  code: z.string(),
  reason: z.string(),
  attempts: z.number().int().nullable(),
  consumer: z.string().nullable(),
  jobId: z.string().nullable(),
  tenantId: z.string().nullable(),
  eventId: z.string().nullable(),
  eventType: z.string().nullable(),
  deadLetteredAt: z.string(),
  replayCount: z.number().int(),
  lastReplayedAt: z.string().nullable(),
  /** The message value as text (cut at 4 KiB), for inspection. */
  value: z.string(),
  headers: z.record(z.string(), z.string()).optional(),
});
export type DeadLetterView = z.infer<typeof DeadLetterViewSchema>;

export const ListDeadLettersQuerySchema = z
  .object({
    stage: z.enum(SERVICES).optional(),
    code: z.string().max(100).optional(),
    /**
     * Platform operators only: one tenant's letters, or `none` for letters that name no tenant.
     * Every other caller sees its own tenant's letters only.
     */
    tenant: z.string().max(64).optional(),
    /** Only letters never replayed. */
    pending: z.enum(['true', 'false']).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type ListDeadLettersQuery = z.infer<typeof ListDeadLettersQuerySchema>;

export const DeadLetterListSchema = z.object({
  items: z.array(DeadLetterViewSchema.omit({ headers: true })),
  nextCursor: z.string().nullable(),
});
export type DeadLetterList = z.infer<typeof DeadLetterListSchema>;

export const ReplayDeadLetterResponseSchema = z.object({
  id: z.string(),
  /** The topic the original message was republished to, or `redelivery` for an undelivered webhook. */
  replayedTo: z.string(),
  replayCount: z.number().int(),
});
export type ReplayDeadLetterResponse = z.infer<typeof ReplayDeadLetterResponseSchema>;

export const RedeliverResponseSchema = z.object({
  id: z.string().uuid(),
  status: z.literal('redelivery_requested'),
  eventId: z.string(),
  links: z.object({ self: z.string() }),
});
