import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type {
  AttemptFailure,
  FailureReason,
  Generation,
  JobGeneratedV1,
  RepairState,
  ReviewCondition,
  ReviewDecidedV1,
} from '@troupe/contracts';
import { OutputValidator } from './output-validator';
import { checkPolicies, type PolicyFinding } from './policy-checker';

export enum ValidationCode {
  CONFIDENCE_CLASSIFICATION_LOW = 'CONFIDENCE_CLASSIFICATION_LOW',
  CONFIDENCE_GENERATION_LOW = 'CONFIDENCE_GENERATION_LOW',
  REVIEW_REJECTED = 'REVIEW_REJECTED',
  REVIEW_DEADLINE_PASSED = 'REVIEW_DEADLINE_PASSED',
}

/** What validation does with one generated output. */
export type Verdict =
  | { kind: 'validated'; output: unknown }
  | { kind: 'regenerate'; repair: RepairState }
  | { kind: 'rejected'; reasons: FailureReason[] }
  | { kind: 'review'; review: ReviewHold };

export interface ReviewHold {
  reviewId: string;
  heldBecause: string[];
  findings: FailureReason[];
  dueAt: Date;
  onDeadline: 'reject' | 'escalate';
}

/** A confidence the generation's model reports, if it reports one (not every model does). */
export function generationConfidence(generation: Generation): number | undefined {
  const c = (generation as { confidence?: unknown }).confidence;
  return typeof c === 'number' && Number.isFinite(c) ? c : undefined;
}

/** The review conditions an output matches, described for the reviewer. */
export function matchReviewRules(
  when: ReviewCondition[],
  job: Pick<JobGeneratedV1, 'classification' | 'generation'>,
  flagged: FailureReason[],
): string[] {
  const confidences = [job.classification.confidence, generationConfidence(job.generation)].filter((c): c is number => c !== undefined);
  const confidence = Math.min(...confidences);
  const matched: string[] = [];
  for (const rule of when) {
    const parts: string[] = [];
    let holds = true;
    if (rule.always) parts.push('always');
    if (rule.label !== undefined) {
      holds &&= job.classification.label === rule.label;
      parts.push(`label ${rule.label}`);
    }
    if (rule.confidenceBelow !== undefined) {
      holds &&= confidence < rule.confidenceBelow;
      parts.push(`confidence ${confidence} below ${rule.confidenceBelow}`);
    }
    if (rule.finding !== undefined) {
      const hit = flagged.filter((f) => rule.finding === '*' || f.code === rule.finding);
      holds &&= hit.length > 0;
      parts.push(`finding ${rule.finding === '*' ? [...new Set(hit.map((f) => f.code))].join('+') || '*' : rule.finding}`);
    }
    if (holds) matched.push(parts.join(' and '));
  }
  return matched;
}

/**
 * The quality gates: schema, policies, confidence; then the repair loop and the review rules.
 * Pure: no Kafka, no database; the handler turns the verdict into rows and events.
 */
@Injectable()
export class ValidationService {
  constructor(private readonly schema: OutputValidator) {}

  evaluate(job: JobGeneratedV1, now = new Date()): Verdict {
    const { validation, review } = job.workflow;
    const output = job.generation.output;
    const findings: PolicyFinding[] = checkPolicies(validation.policies, output, job.input.text);
    const failures: FailureReason[] = [
      ...this.schema.validate(job.workflow.output.schema, output),
      ...findings.filter((f) => f.action === 'fail').map(({ code, path, message }) => ({ code, path, message })),
    ];
    const { minClassification, minGeneration } = validation.confidence;
    const generated = generationConfidence(job.generation);
    if (minGeneration !== undefined && generated !== undefined && generated < minGeneration) {
      failures.push({
        code: ValidationCode.CONFIDENCE_GENERATION_LOW,
        message: `generation confidence ${generated} is below ${minGeneration}`,
      });
    }
    // Another attempt cannot raise the classification's confidence: that failure is final.
    const final: FailureReason[] = [];
    if (minClassification !== undefined && job.classification.confidence < minClassification) {
      final.push({
        code: ValidationCode.CONFIDENCE_CLASSIFICATION_LOW,
        message: `classification confidence ${job.classification.confidence} is below ${minClassification}`,
      });
    }

    const attempt = job.repair?.attempt ?? 1;
    const history: AttemptFailure[] = job.repair?.history ?? [];
    if (failures.length > 0 || final.length > 0) {
      const thisAttempt = [...failures, ...final];
      if (final.length === 0 && attempt < validation.repair.maxAttempts) {
        return { kind: 'regenerate', repair: { attempt: attempt + 1, history: [...history, { attempt, reasons: thisAttempt }] } };
      }
      // Every reason of every attempt, so the customer sees why each try failed.
      const earlier = history.flatMap((h) => h.reasons.map((r) => ({ ...r, attempt: h.attempt })));
      const all = attempt > 1 ? [...earlier, ...thisAttempt.map((r) => ({ ...r, attempt }))] : thisAttempt;
      return { kind: 'rejected', reasons: all };
    }

    if (review) {
      const flagged = findings.filter((f) => f.action === 'flag').map(({ code, path, message }) => ({ code, path, message }));
      const heldBecause = matchReviewRules(review.when, job, flagged);
      if (heldBecause.length > 0) {
        return {
          kind: 'review',
          review: {
            reviewId: randomUUID(),
            heldBecause,
            findings: flagged,
            dueAt: new Date(now.getTime() + review.deadlineSeconds * 1000),
            onDeadline: review.onDeadline,
          },
        };
      }
    }
    return { kind: 'validated', output };
  }

  /** What a reviewer's decision makes of the held job. */
  decide(
    job: JobGeneratedV1,
    decided: Pick<ReviewDecidedV1, 'decision' | 'output' | 'comment' | 'reviewer'>,
  ): { status: 'approved' | 'edited' | 'rejected'; output?: unknown; reasons?: FailureReason[] } {
    const by = `reviewer ${decided.reviewer.keyId}`;
    switch (decided.decision) {
      case 'approve':
        return { status: 'approved', output: job.generation.output };
      case 'edit': {
        // Intake checked the edit against the schema already; validation still has the last word.
        const reasons = this.schema.validate(job.workflow.output.schema, decided.output);
        return reasons.length ? { status: 'rejected', reasons } : { status: 'edited', output: decided.output };
      }
      case 'reject':
        return {
          status: 'rejected',
          reasons: [{ code: ValidationCode.REVIEW_REJECTED, message: decided.comment ? `rejected by ${by}: ${decided.comment}` : `rejected by ${by}` }],
        };
    }
  }

  /** The workflow's rule for a review past its deadline. */
  expire(review: { status: string; onDeadline: 'reject' | 'escalate'; dueAt: Date }): {
    status: 'expired' | 'escalated';
    action: 'reject' | 'escalate';
    reasons?: FailureReason[];
  } {
    // Escalated once already: its second deadline (the escalation's) rejects.
    if (review.onDeadline === 'escalate' && review.status === 'pending') return { status: 'escalated', action: 'escalate' };
    return {
      status: 'expired',
      action: 'reject',
      reasons: [{ code: ValidationCode.REVIEW_DEADLINE_PASSED, message: `no review decision before ${review.dueAt.toISOString()}` }],
    };
  }
}
