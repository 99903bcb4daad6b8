import { z } from 'zod';

/**
 * What a policy does with its findings: `fail` fails the validation gate (repair loop, then
 * rejection); `flag` lets the output pass but records the finding, for review rules to match.
 */
export const PolicyActionSchema = z.enum(['fail', 'flag']);
export type PolicyAction = z.infer<typeof PolicyActionSchema>;

export const PII_KINDS = ['email', 'phone', 'payment-card', 'iban'] as const;
export const PiiKindSchema = z.enum(PII_KINDS);
export type PiiKind = z.infer<typeof PiiKindSchema>;

const action = PolicyActionSchema.default('fail');

export const PoliciesSpecSchema = z
  .object({
    /** Personal data in the output. */
    pii: z.object({ kinds: z.array(PiiKindSchema).min(1).default([...PII_KINDS]), action }).strict().optional(),
    /** API keys and private keys in the output. */
    secrets: z.object({ action }).strict().optional(),
    /** Case-insensitive words or phrases the output must not contain. */
    blockedTerms: z.object({ terms: z.array(z.string().min(1)).min(1), action }).strict().optional(),
    /** Instruction-like sentences of the input repeated in the output: a sign of prompt injection. */
    instructionEcho: z.object({ action }).strict().optional(),
    /** Characters of text in the output (all its strings together). */
    maxLength: z.object({ characters: z.number().int().positive(), action }).strict().optional(),
  })
  .strict();
export type PoliciesSpec = z.infer<typeof PoliciesSpecSchema>;

export const ValidationSpecSchema = z
  .object({
    policies: PoliciesSpecSchema.default({}),
    confidence: z
      .object({
        /** The classification's confidence must be at least this (a low one cannot be repaired: the job is rejected). */
        minClassification: z.number().min(0).max(1).optional(),
        /** The generation's confidence, when its model reports one. */
        minGeneration: z.number().min(0).max(1).optional(),
      })
      .strict()
      .default({}),
    repair: z
      .object({
        /** Generation attempts in all, the first included; 1 turns the repair loop off. */
        maxAttempts: z.number().int().min(1).max(10).default(1),
      })
      .strict()
      .default({}),
  })
  .strict();
export type ValidationSpec = z.infer<typeof ValidationSpecSchema>;

/** One condition that holds a result for a person; a rule holds when every field it names matches. */
export const ReviewConditionSchema = z
  .object({
    /** The classification label is this one. */
    label: z.string().min(1).optional(),
    /** The classification's (or the generation's, when lower) confidence is below this. */
    confidenceBelow: z.number().min(0).max(1).optional(),
    /** A flagged policy finding has this code (`*` for any flagged finding). */
    finding: z.string().min(1).optional(),
    /** Every result. */
    always: z.literal(true).optional(),
  })
  .strict()
  .refine((c) => Object.keys(c).length > 0, { message: 'a review condition needs label, confidenceBelow, finding or always' });
export type ReviewCondition = z.infer<typeof ReviewConditionSchema>;

export const ReviewSpecSchema = z
  .object({
    /** Hold the result when any condition matches. */
    when: z.array(ReviewConditionSchema).min(1),
    /** How long a review may wait for a decision. */
    deadlineSeconds: z.number().int().positive().max(90 * 24 * 3600).default(24 * 3600),
    /** At the deadline: reject the job, or escalate the review (only an admin may then decide). */
    onDeadline: z.enum(['reject', 'escalate']).default('reject'),
    /** After an escalation, how long an admin has before the job is rejected; without it, the review waits. */
    escalationDeadlineSeconds: z.number().int().positive().max(90 * 24 * 3600).optional(),
  })
  .strict();
export type ReviewSpec = z.infer<typeof ReviewSpecSchema>;
