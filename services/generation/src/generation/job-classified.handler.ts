import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, type JobClassifiedV1 } from '@troupe/contracts';
import type { MessageContext } from '@troupe/messaging';
import { JobGraphsService } from '../steps/job-graphs.service';

/** A classified job starts its graph: the first steps are scheduled here and run once the chunk commits. */
@Controller()
export class JobClassifiedHandler {
  constructor(private readonly graphs: JobGraphsService) {}

  @EventPattern(TOPICS.jobClassified)
  handle(@Payload() job: JobClassifiedV1, @Ctx() ctx: MessageContext): Promise<void> {
    return this.graphs.begin(job, ctx);
  }
}
