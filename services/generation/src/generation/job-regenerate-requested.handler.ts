import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JOB_FAILED_V1, JOB_GENERATED_V1, TOPICS, type JobRegenerateRequestedV1 } from '@troupe/contracts';
import type { MessageContext } from '@troupe/messaging';
import { GenerationException } from './generation.exception';
import { GenerationService } from './generation.service';
import { GenerationsRepository } from './generations.repository';

/** The repair loop: validation sent an output back with its errors; generate again, told what to fix. */
@Controller()
export class JobRegenerateRequestedHandler {
  constructor(
    private readonly generation: GenerationService,
    private readonly generations: GenerationsRepository,
  ) {}

  @EventPattern(TOPICS.jobRegenerateRequested)
  async handle(@Payload() job: JobRegenerateRequestedV1, @Ctx() ctx: MessageContext): Promise<void> {
    const { generation: _previous, repair, ...classified } = job;
    const last = repair.history[repair.history.length - 1];
    try {
      const generation = await this.generation.generate(classified, { attempt: repair.attempt, errors: last.reasons });
      this.generations.record(ctx, { ...job, workflowId: job.workflow.id }, generation);
      ctx.emit({ type: JOB_GENERATED_V1, data: { ...classified, generation, repair } });
    } catch (error) {
      if (!(error instanceof GenerationException)) throw error;
      ctx.emit({
        type: JOB_FAILED_V1,
        data: { jobId: job.jobId, tenantId: job.tenantId, stage: 'generation', code: error.code, reason: error.message },
      });
    }
  }
}
