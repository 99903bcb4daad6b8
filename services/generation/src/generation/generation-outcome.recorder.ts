import { Injectable } from '@nestjs/common';
import { JOB_FAILED_V1, JOB_GENERATED_V1, type JobClassifiedV1, type RepairState } from '@troupe/contracts';
import type { MessageContext } from '@troupe/messaging';
import type { GenerationOutcome } from './generation.service';
import { GenerationsRepository } from './generations.repository';

/**
 * What both generation handlers do in the chunk's transaction with a prepared outcome: record every
 * model attempt, then emit `job.generated` (carrying the repair state on a regeneration) or
 * `job.failed` when no model could serve the job.
 */
@Injectable()
export class GenerationOutcomeRecorder {
  constructor(private readonly generations: GenerationsRepository) {}

  record(ctx: MessageContext, job: JobClassifiedV1, outcome: GenerationOutcome, repair?: RepairState): void {
    const ids = { jobId: job.jobId, tenantId: job.tenantId, workflowId: job.workflow.id };
    if (outcome.kind === 'generated') {
      const g = outcome.generation;
      this.generations.record(
        ctx,
        ids,
        { route: g.route, strategy: g.strategy, attempt: g.attempt ?? 1, chosenModel: g.model },
        g.attempts,
      );
      ctx.emit({ type: JOB_GENERATED_V1, data: { ...job, generation: g, ...(repair ? { repair } : {}) } });
      return;
    }
    // No model could serve the job: it fails with the reason; the event itself was fine. The job's
    // target travels along so that delivery can send the failure notification at once.
    this.generations.record(ctx, ids, { route: outcome.route, attempt: outcome.attempt }, outcome.attempts);
    ctx.emit({
      type: JOB_FAILED_V1,
      data: {
        jobId: job.jobId,
        tenantId: job.tenantId,
        stage: 'generation',
        code: outcome.code,
        reason: outcome.reason,
        webhook: job.webhook,
        workflow: { id: job.workflow.id, version: job.workflow.version },
        metadata: job.metadata,
      },
    });
  }
}
