import { z } from 'zod';
import { WebhookTargetSchema } from './job-context';

export const JOB_FAILED_V1 = 'troupe.job.failed.v1';
export const JobFailedV1Schema = z.object({
  jobId: z.string(),
  tenantId: z.string(),
  /** The stage that gave up on the job. */
  stage: z.string(),
  code: z.string(),
  reason: z.string(),
  /**
   * The topic of the message the stage could not process, when the failure is its dead letter. A
   * job.failed from the job.requested topic means that request is unreadable: delivery notifies
   * what the failure names (if anything) without waiting to see the request.
   */
  failedTopic: z.string().optional(),
  /** The step of the workflow's graph that failed, when a step did. */
  step: z.string().optional(),
  /**
   * Where the job's outcome goes, when the emitter knows (the transport copies it from the failed
   * event's job context): delivery then needs no earlier job.requested to notify the target.
   */
  webhook: WebhookTargetSchema.optional(),
  workflow: z.object({ id: z.string(), version: z.number().int() }).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  /**
   * What the job's model calls have cost in all when it failed (classification's and generation's),
   * when the emitter knows: budgets settle once the cost ledger has this much.
   */
  costUsd: z.number().nonnegative().optional(),
});
export type JobFailedV1 = z.infer<typeof JobFailedV1Schema>;
