import { z } from 'zod';
import { FailureReasonSchema } from './job-context';

/** The reasons one generation attempt failed validation. */
export const AttemptFailureSchema = z.object({
  attempt: z.number().int().positive(),
  reasons: z.array(FailureReasonSchema).min(1),
});
export type AttemptFailure = z.infer<typeof AttemptFailureSchema>;

/**
 * Where a job is in the repair loop: the attempt being made (2 for the first retry) and why every
 * earlier attempt failed. It travels in the events, so neither stage has to look it up.
 */
export const RepairStateSchema = z.object({
  attempt: z.number().int().min(2),
  history: z.array(AttemptFailureSchema).min(1),
});
export type RepairState = z.infer<typeof RepairStateSchema>;
