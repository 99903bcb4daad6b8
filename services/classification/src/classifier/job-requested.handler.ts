import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JOB_CLASSIFIED_V1, TOPICS, type Classification, type JobRequestedV1 } from '@troupe/contracts';
import { preparePattern, type MessageContext, type PrepareContext } from '@troupe/messaging';
import { ClassificationsRepository } from './classifications.repository';
import { ClassifierService } from './classifier.service';

/** Two phases: classify (maybe an LLM call) before the transaction; record and emit inside it. */
@Controller()
export class JobRequestedHandler {
  constructor(
    private readonly classifier: ClassifierService,
    private readonly classifications: ClassificationsRepository,
  ) {}

  @EventPattern(preparePattern(TOPICS.jobRequested))
  prepare(@Payload() job: JobRequestedV1, @Ctx() ctx: PrepareContext): Promise<Classification> {
    return this.classifier.classify(job, ctx.signal);
  }

  @EventPattern(TOPICS.jobRequested)
  async handle(@Payload() job: JobRequestedV1, @Ctx() ctx: MessageContext): Promise<void> {
    const classification = ctx.prepared<Classification>();
    this.classifications.record(ctx, { ...job, workflowId: job.workflow.id }, classification);
    const { requestedAt: _requestedAt, ...context } = job;
    ctx.emit({ type: JOB_CLASSIFIED_V1, data: { ...context, classification } });
  }
}
