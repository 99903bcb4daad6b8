import type { FailureReason } from '@troupe/contracts';

/** Why the previous attempt was sent back by validation. */
export interface RepairFeedback {
  attempt: number;
  errors: FailureReason[];
}

/** The workflow's instructions plus what to correct; the errors are validation's words, not user input. */
export function withRepairNote(instructions: string | undefined, repair: RepairFeedback): string {
  const errors = repair.errors.map((e) => `- ${e.code}${e.path ? ` at ${e.path}` : ''}: ${e.message}`).join('\n');
  const note = `This is attempt ${repair.attempt}. The previous output was rejected by validation for these reasons; produce an output without them:\n${errors}`;
  return instructions ? `${instructions}\n\n${note}` : note;
}
