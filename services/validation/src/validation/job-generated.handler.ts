import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JOB_REJECTED_V1, JOB_VALIDATED_V1, TOPICS, type JobGeneratedV1 } from '@troupe/contracts';
import type { MessageContext } from '@troupe/messaging';
import { OutputValidator } from './output-validator';
import { ValidationsRepository } from './validations.repository';

@Controller()
export class JobGeneratedHandler {
  constructor(
    private readonly validator: OutputValidator,
    private readonly validations: ValidationsRepository,
  ) {}

  @EventPattern(TOPICS.jobGenerated)
  async handle(@Payload() job: JobGeneratedV1, @Ctx() ctx: MessageContext): Promise<void> {
    const reasons = this.validator.validate(job.workflow.output.schema, job.generation.output);
    this.validations.record(ctx, { ...job, workflowId: job.workflow.id }, reasons);
    if (reasons.length === 0) {
      ctx.emit({ type: JOB_VALIDATED_V1, data: { ...job, output: job.generation.output } });
    } else {
      ctx.emit({ type: JOB_REJECTED_V1, data: { ...job, reasons } });
    }
  }
}
