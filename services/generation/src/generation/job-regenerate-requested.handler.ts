import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, type JobRegenerateRequestedV1 } from '@troupe/contracts';
import type { MessageContext } from '@troupe/messaging';
import { JobGraphsService } from '../steps/job-graphs.service';

/**
 * The repair loop: validation sent an output back with its errors; the steps that produced the
 * failing parts run again with the errors as data (a cascade starts a tier higher).
 */
@Controller()
export class JobRegenerateRequestedHandler {
  constructor(private readonly graphs: JobGraphsService) {}

  @EventPattern(TOPICS.jobRegenerateRequested)
  handle(@Payload() request: JobRegenerateRequestedV1, @Ctx() ctx: MessageContext): Promise<void> {
    return this.graphs.rerun(request, ctx);
  }
}
