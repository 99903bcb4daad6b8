import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JOB_VALIDATED_V1, TOPICS, type JobRejectedV1, type JobValidatedV1 } from '@troupe/contracts';
import type { MessageContext } from '@troupe/messaging';
import { DeliveryService } from './delivery.service';

@Controller()
export class JobOutcomeHandler {
  constructor(private readonly delivery: DeliveryService) {}

  /** Both outcomes are delivered: a rejection is news the customer's system needs too. */
  @EventPattern([TOPICS.jobValidated, TOPICS.jobRejected])
  async handle(@Payload() job: JobValidatedV1 | JobRejectedV1, @Ctx() ctx: MessageContext): Promise<void> {
    this.delivery.onOutcome(job, ctx.envelope.type === JOB_VALIDATED_V1 ? 'validated' : 'rejected', ctx);
  }
}
