import { BatchInsert } from './batch-writes';
import type { MessageContext } from './message-context';

/**
 * Records, in the handler's chunk transaction, that `jobId` is cancelled for this service: from
 * then on an inbox transport with `dropCancelledJobs` skips the job's events (a cancel request
 * itself always reaches its handler).
 */
export function markJobCancelled(ctx: MessageContext, jobId: string): void {
  ctx.deferred('cancelled-jobs', () => new BatchInsert('cancelled_jobs', ['job_id'], 'ON CONFLICT (job_id) DO NOTHING')).add([jobId]);
}
