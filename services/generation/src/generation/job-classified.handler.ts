import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, type JobClassifiedV1 } from '@troupe/contracts';
import { preparePattern, type MessageContext, type PrepareContext } from '@troupe/messaging';
import { GenerationOutcomeRecorder } from './generation-outcome.recorder';
import { GenerationService, type GenerationOutcome } from './generation.service';

/**
 * Two phases: the model calls run in `prepare`, concurrently for the chunk's messages and with no
 * database transaction open; `handle` then records the outcome and emits in the chunk's transaction.
 */
@Controller()
export class JobClassifiedHandler {
  constructor(
    private readonly generation: GenerationService,
    private readonly outcomes: GenerationOutcomeRecorder,
  ) {}

  @EventPattern(preparePattern(TOPICS.jobClassified))
  prepare(@Payload() job: JobClassifiedV1, @Ctx() ctx: PrepareContext): Promise<GenerationOutcome> {
    return this.generation.generate(job, { signal: ctx.signal });
  }

  @EventPattern(TOPICS.jobClassified)
  handle(@Payload() job: JobClassifiedV1, @Ctx() ctx: MessageContext): void {
    this.outcomes.record(ctx, job, ctx.prepared<GenerationOutcome>());
  }
}
