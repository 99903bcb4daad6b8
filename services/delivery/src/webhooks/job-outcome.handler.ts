import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  JOB_VALIDATED_V1,
  TOPICS,
  type JobCancelRequestedV1,
  type JobFailedV1,
  type JobRedeliveryRequestedV1,
  type JobRejectedV1,
  type JobRequestedV1,
  type JobValidatedV1,
} from '@troupe/contracts';
import type { MessageContext } from '@troupe/messaging';
import { DeliveryService } from './delivery.service';

@Controller()
export class JobOutcomeHandler {
  constructor(private readonly delivery: DeliveryService) {}

  /** Both outcomes are delivered: a rejection is news the customer's system needs too. */
  @EventPattern([TOPICS.jobValidated, TOPICS.jobRejected])
  async handle(@Payload() job: JobValidatedV1 | JobRejectedV1, @Ctx() ctx: MessageContext): Promise<void> {
    await this.delivery.onOutcome(job, ctx.envelope.type === JOB_VALIDATED_V1 ? 'validated' : 'rejected', ctx);
  }

  @EventPattern(TOPICS.jobRequested)
  onRequested(@Payload() job: JobRequestedV1, @Ctx() ctx: MessageContext): void {
    this.delivery.onRequested(job, ctx);
  }

  /** A failure is delivered as its own event type, `job.failed`. */
  @EventPattern(TOPICS.jobFailed)
  async onFailed(@Payload() failed: JobFailedV1, @Ctx() ctx: MessageContext): Promise<void> {
    await this.delivery.onFailed(failed, ctx);
  }

  /** A cancel request: cancelled if no outcome came first; see DeliveryService.onCancelRequested. */
  @EventPattern(TOPICS.jobCancelRequested)
  async onCancelRequested(@Payload() request: JobCancelRequestedV1, @Ctx() ctx: MessageContext): Promise<void> {
    await this.delivery.onCancelRequested(request, ctx);
  }

  @EventPattern(TOPICS.jobRedeliveryRequested)
  async onRedeliveryRequested(@Payload() request: JobRedeliveryRequestedV1, @Ctx() ctx: MessageContext): Promise<void> {
    await this.delivery.onRedeliveryRequested(request, ctx);
  }
}
