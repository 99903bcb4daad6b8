import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, type JobClassifiedV1, type JobRegenerateRequestedV1 } from '@troupe/contracts';
import { preparePattern, type MessageContext, type PrepareContext } from '@troupe/messaging';
import { GenerationOutcomeRecorder } from './generation-outcome.recorder';
import { GenerationService, type GenerationOutcome } from './generation.service';

/**
 * The repair loop: validation sent an output back with its errors; generate again (the model layer
 * puts the errors in the data message, and a cascade starts a tier higher), in the same two phases
 * as a first generation.
 */
@Controller()
export class JobRegenerateRequestedHandler {
  constructor(
    private readonly generation: GenerationService,
    private readonly outcomes: GenerationOutcomeRecorder,
  ) {}

  @EventPattern(preparePattern(TOPICS.jobRegenerateRequested))
  prepare(@Payload() job: JobRegenerateRequestedV1, @Ctx() ctx: PrepareContext): Promise<GenerationOutcome> {
    const last = job.repair.history[job.repair.history.length - 1];
    return this.generation.generate(classifiedPart(job), {
      attempt: job.repair.attempt,
      previousErrors: last.reasons,
      signal: ctx.signal,
    });
  }

  @EventPattern(TOPICS.jobRegenerateRequested)
  handle(@Payload() job: JobRegenerateRequestedV1, @Ctx() ctx: MessageContext): void {
    this.outcomes.record(ctx, classifiedPart(job), ctx.prepared<GenerationOutcome>(), job.repair);
  }
}

function classifiedPart(job: JobRegenerateRequestedV1): JobClassifiedV1 {
  const { generation: _failed, repair: _repair, ...classified } = job;
  return classified;
}
