import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, type JobCancelRequestedV1 } from '@troupe/contracts';
import { OBSERVES_JOBS, type MessageContext } from '@troupe/messaging';
import { JobGraphsService } from '../steps/job-graphs.service';

/** A cancel request: the job's steps stop here and in every other generation process. */
@Controller()
export class JobCancelRequestedHandler {
  constructor(private readonly graphs: JobGraphsService) {}

  @EventPattern(TOPICS.jobCancelRequested, { [OBSERVES_JOBS]: true })
  handle(@Payload() request: JobCancelRequestedV1, @Ctx() ctx: MessageContext): Promise<void> {
    return this.graphs.cancel(request, ctx);
  }
}
