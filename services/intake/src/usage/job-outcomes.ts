import {
  JOB_CANCELLED_V1,
  JOB_DELIVERED_V1,
  JOB_DELIVERY_FAILED_V1,
  JOB_FAILED_V1,
  JOB_REJECTED_V1,
  type EventData,
  type EventType,
} from '@troupe/contracts';
import type { DeferredWrite } from '@troupe/messaging';
import { afterCommit } from '@troupe/persistence';
import type { EntityManager } from 'typeorm';
import { jobE2eSeconds, jobsFinished, jobsSlow, tenantOf } from './usage-metrics';

export type FinishedAs = 'delivered' | 'delivery_failed' | 'failed' | 'rejected' | 'cancelled';

/** How an event finishes the job for its client, if it does. */
export function finishedAs(type: EventType, data: unknown): FinishedAs | undefined {
  switch (type) {
    case JOB_DELIVERED_V1: {
      const d = data as EventData<typeof JOB_DELIVERED_V1>;
      if (d.outcome === 'failed' || d.outcome === 'cancelled') return undefined; // a notification: the job finished before
      if (d.channel === 'topic' && d.webhookPending) return undefined; // the webhook decides
      return 'delivered';
    }
    case JOB_DELIVERY_FAILED_V1:
      return 'delivery_failed';
    case JOB_FAILED_V1:
      return 'failed';
    case JOB_REJECTED_V1:
      return 'rejected';
    case JOB_CANCELLED_V1:
      return 'cancelled';
    default:
      return undefined;
  }
}

/**
 * Records when and how jobs finished, once per job (the first finishing event wins), in the chunk's
 * transaction; the job-level metrics count each job once, after the commit.
 */
export class JobOutcomesBatch implements DeferredWrite {
  private readonly outcomes = new Map<string, { as: FinishedAs; time: string }>();

  constructor(private readonly latencyObjectiveMs: (workflowId: string) => number | undefined) {}

  add(jobId: string, as: FinishedAs, time: string): void {
    const current = this.outcomes.get(jobId);
    if (!current || current.time > time) this.outcomes.set(jobId, { as, time });
  }

  async flush(manager: EntityManager): Promise<void> {
    if (this.outcomes.size === 0) return;
    const o = [...this.outcomes];
    const [rows]: [{ tenant_id: string; workflow_id: string; finished_as: FinishedAs; created_at: Date; finished_at: Date; replay_id: string | null }[], number] =
      await manager.query(
        `UPDATE jobs j SET finished_at = GREATEST(u.time, j.created_at), finished_as = u.finished_as
           FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS u(id, finished_as, time)
          WHERE j.id = u.id AND j.finished_at IS NULL
         RETURNING j.tenant_id, j.workflow_id, j.finished_as, j.created_at, j.finished_at, j.replay_id`,
        [o.map(([id]) => id), o.map(([, x]) => x.as), o.map(([, x]) => x.time)],
      );
    this.outcomes.clear();
    afterCommit(manager, () => {
      for (const r of rows) {
        if (r.replay_id) continue; // shadow jobs are not the tenant's traffic: no SLO counts them
        jobsFinished.inc({ tenant: tenantOf(r.tenant_id), workflow: r.workflow_id, outcome: r.finished_as });
        const ms = new Date(r.finished_at).getTime() - new Date(r.created_at).getTime();
        jobE2eSeconds.observe({ workflow: r.workflow_id, outcome: r.finished_as }, ms / 1000);
        if (r.finished_as !== 'delivered') continue;
        const objective = this.latencyObjectiveMs(r.workflow_id);
        if (objective !== undefined && ms > objective) jobsSlow.inc({ tenant: tenantOf(r.tenant_id), workflow: r.workflow_id });
      }
    });
  }
}
