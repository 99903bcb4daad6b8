import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, type JobDataEraseRequestedV1 } from '@troupe/contracts';
import { eraseJobData, OBSERVES_JOBS, type MessageContext } from '@troupe/messaging';

/** A job's payloads erased: its steps' outputs and its run's context (the input and upstream outputs); the run's status, models and costs remain. */
const ERASE: readonly string[] = [
  `UPDATE job_steps SET output = NULL, result = NULL WHERE job_id = $1`,
  `UPDATE job_runs SET context = '{"erased":true}' WHERE job_id = $1`,
];

@Controller()
export class JobDataEraseRequestedHandler {
  @EventPattern(TOPICS.jobDataEraseRequested, { [OBSERVES_JOBS]: true })
  handle(@Payload() request: JobDataEraseRequestedV1, @Ctx() ctx: MessageContext): Promise<void> {
    return eraseJobData(ctx, request.jobId, ERASE);
  }
}
