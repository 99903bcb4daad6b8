import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, type JobDataEraseRequestedV1 } from '@troupe/contracts';
import { eraseJobData, OBSERVES_JOBS, type MessageContext } from '@troupe/messaging';

/** A job's payloads erased: the bodies of its deliveries (a delivery still being retried stops: there is nothing left to send); targets, attempts and outcomes remain. */
const ERASE: readonly string[] = [
  `UPDATE deliveries SET payload = 'null'::jsonb,
          last_error = CASE WHEN status = 'pending' THEN 'the job''s data was erased before it could be delivered' ELSE last_error END,
          status = CASE WHEN status = 'pending' THEN 'failed' ELSE status END
    WHERE job_id = $1`,
];

@Controller()
export class JobDataEraseRequestedHandler {
  @EventPattern(TOPICS.jobDataEraseRequested, { [OBSERVES_JOBS]: true })
  handle(@Payload() request: JobDataEraseRequestedV1, @Ctx() ctx: MessageContext): Promise<void> {
    return eraseJobData(ctx, request.jobId, ERASE);
  }
}
