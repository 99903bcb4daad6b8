import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JOB_FAILED_V1, JOB_GENERATED_V1, TOPICS, type JobClassifiedV1 } from '@troupe/contracts';
import type { MessageContext } from '@troupe/messaging';
import { GenerationException } from './generation.exception';
import { GenerationService } from './generation.service';
import { GenerationsRepository } from './generations.repository';

@Controller()
export class JobClassifiedHandler {
  constructor(
    private readonly generation: GenerationService,
    private readonly generations: GenerationsRepository,
  ) {}

  @EventPattern(TOPICS.jobClassified)
  async handle(@Payload() job: JobClassifiedV1, @Ctx() ctx: MessageContext): Promise<void> {
    try {
      const generation = await this.generation.generate(job);
      this.generations.record(ctx, { ...job, workflowId: job.workflow.id }, generation);
      ctx.emit({ type: JOB_GENERATED_V1, data: { ...job, generation } });
    } catch (error) {
      // A workflow naming a model nobody serves: the job fails with the reason; the event was fine.
      if (!(error instanceof GenerationException)) throw error;
      ctx.emit({
        type: JOB_FAILED_V1,
        data: { jobId: job.jobId, tenantId: job.tenantId, stage: 'generation', code: error.code, reason: error.message },
      });
    }
  }
}
