import type { MessageContext } from './message-context';

/**
 * Erases a job's payloads from a service's store, in the transaction of the
 * `job.data-erase-requested` message: the service's own statements (each takes the job id as $1),
 * then the job's events this service has already published (unpublished ones must still go out).
 * Running it twice changes nothing.
 */
export async function eraseJobData(ctx: MessageContext, jobId: string, statements: readonly string[]): Promise<void> {
  for (const sql of statements) await ctx.manager.query(sql, [jobId]);
  await ctx.manager.query(`DELETE FROM outbox WHERE key = $1 AND sent_at IS NOT NULL`, [jobId]);
}
