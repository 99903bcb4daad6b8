import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  BUDGET_ALERTS_TOPIC,
  JOB_VALIDATED_V1,
  TOPICS,
  type BudgetThresholdCrossedV1,
  type JobCancelRequestedV1,
  type JobFailedV1,
  type JobRedeliveryRequestedV1,
  type JobRejectedV1,
  type JobRequestedV1,
  type JobValidatedV1,
} from '@troupe/contracts';
import { OBSERVES_JOBS, type MessageContext } from '@troupe/messaging';
import { DeliveryService } from './delivery.service';

@Controller()
export class JobOutcomeHandler {
  constructor(private readonly delivery: DeliveryService) {}

  /** Both outcomes are delivered: a rejection is news the customer's system needs too. */
  @EventPattern([TOPICS.jobValidated, TOPICS.jobRejected])
  async handle(@Payload() job: JobValidatedV1 | JobRejectedV1, @Ctx() ctx: MessageContext): Promise<void> {
    await this.delivery.onOutcome(job, ctx.envelope.type === JOB_VALIDATED_V1 ? 'validated' : 'rejected', ctx);
  }

  /** Only remembered: a request it cannot read is classification's to fail (it owns the next step). */
  @EventPattern(TOPICS.jobRequested, { [OBSERVES_JOBS]: true })
  onRequested(@Payload() job: JobRequestedV1, @Ctx() ctx: MessageContext): void {
    this.delivery.onRequested(job, ctx);
  }

  /** A failure is delivered as its own event type, `job.failed`. */
  @EventPattern(TOPICS.jobFailed)
  async onFailed(@Payload() failed: JobFailedV1, @Ctx() ctx: MessageContext): Promise<void> {
    await this.delivery.onFailed(failed, ctx);
  }

  /** A cancel request: cancelled if no outcome came first; see DeliveryService.onCancelRequested. */
  @EventPattern(TOPICS.jobCancelRequested, { [OBSERVES_JOBS]: true })
  async onCancelRequested(@Payload() request: JobCancelRequestedV1, @Ctx() ctx: MessageContext): Promise<void> {
    await this.delivery.onCancelRequested(request, ctx);
  }

  /** A budget's soft threshold crossed: the tenant's alert webhook, once per threshold per period. */
  @EventPattern(BUDGET_ALERTS_TOPIC, { [OBSERVES_JOBS]: true })
  onBudgetThresholdCrossed(@Payload() alert: BudgetThresholdCrossedV1, @Ctx() ctx: MessageContext): void {
    this.delivery.onBudgetThresholdCrossed(alert, ctx);
  }

  @EventPattern(TOPICS.jobRedeliveryRequested, { [OBSERVES_JOBS]: true })
  async onRedeliveryRequested(@Payload() request: JobRedeliveryRequestedV1, @Ctx() ctx: MessageContext): Promise<void> {
    await this.delivery.onRedeliveryRequested(request, ctx);
  }
}
