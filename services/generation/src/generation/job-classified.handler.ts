import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JOB_FAILED_V1, JOB_GENERATED_V1, TOPICS, type JobClassifiedV1 } from '@troupe/contracts';
import { preparePattern, type MessageContext, type PrepareContext } from '@troupe/messaging';
import { GenerationService, type GenerationOutcome } from './generation.service';
import { GenerationsRepository } from './generations.repository';

/**
 * Two phases: the model calls run in `prepare`, concurrently for the chunk's messages and with no
 * database transaction open; `handle` then records the outcome and emits in the chunk's transaction.
 */
@Controller()
export class JobClassifiedHandler {
  constructor(
    private readonly generation: GenerationService,
    private readonly generations: GenerationsRepository,
  ) {}

  @EventPattern(preparePattern(TOPICS.jobClassified))
  prepare(@Payload() job: JobClassifiedV1, @Ctx() ctx: PrepareContext): Promise<GenerationOutcome> {
    return this.generation.generate(job, { signal: ctx.signal });
  }

  @EventPattern(TOPICS.jobClassified)
  async handle(@Payload() job: JobClassifiedV1, @Ctx() ctx: MessageContext): Promise<void> {
    const outcome = ctx.prepared<GenerationOutcome>();
    const ids = { jobId: job.jobId, tenantId: job.tenantId, workflowId: job.workflow.id };
    if (outcome.kind === 'generated') {
      const g = outcome.generation;
      this.generations.record(
        ctx,
        ids,
        { route: g.route, strategy: g.strategy, attempt: g.attempt ?? 1, chosenModel: g.model },
        g.attempts,
      );
      ctx.emit({ type: JOB_GENERATED_V1, data: { ...job, generation: g } });
      return;
    }
    // No model could serve the job: it fails with the reason; the event itself was fine.
    this.generations.record(ctx, ids, { route: outcome.route, attempt: outcome.attempt }, outcome.attempts);
    ctx.emit({
      type: JOB_FAILED_V1,
      data: {
        jobId: job.jobId,
        tenantId: job.tenantId,
        stage: 'generation',
        code: outcome.code,
        reason: outcome.reason,
      },
    });
  }
}
