import { JOB_REVIEW_EXPIRED_V1, type JobReviewExpiredV1, type JobReviewRequestedV1, type ReviewDecidedV1 } from '@troupe/contracts';
import type { DeferredWrite } from '@troupe/messaging';
import type { EntityManager } from 'typeorm';

/**
 * The review queue's writes for one consumer chunk. Held reviews are inserted in one statement;
 * decisions and deadlines (few) are applied one by one after them.
 */
export class ReviewQueueBatch implements DeferredWrite {
  private readonly held: { event: JobReviewRequestedV1; time: string; trace: Record<string, string> }[] = [];
  private readonly changes: (
    | { kind: 'decided'; event: ReviewDecidedV1 }
    | { kind: 'expired'; event: JobReviewExpiredV1 }
    | { kind: 'cancelled'; jobId: string }
  )[] = [];

  hold(event: JobReviewRequestedV1, time: string, trace: Record<string, string>): void {
    this.held.push({ event, time, trace });
  }

  decided(event: ReviewDecidedV1): void {
    this.changes.push({ kind: 'decided', event });
  }

  expired(event: JobReviewExpiredV1): void {
    this.changes.push({ kind: 'expired', event });
  }

  /** The job was cancelled: its open review is closed. */
  cancelled(jobId: string): void {
    this.changes.push({ kind: 'cancelled', jobId });
  }

  async flush(manager: EntityManager): Promise<void> {
    if (this.held.length > 0) {
      const h = this.held;
      // Reviews of jobs this intake does not know are ignored. Topics are read independently, so the
      // deadline's event may have been read first: its timeline entry (or the job's outcome) says so.
      // Millisecond times, like the list cursor that carries them.
      await manager.query(
        `INSERT INTO reviews (id, job_id, tenant_id, workflow_id, workflow_version, status, label, confidence, output,
                              output_schema, held_because, findings, due_at, on_deadline, requested_at, trace_headers)
         SELECT r.id, r.job_id, r.tenant_id, r.workflow_id, r.workflow_version,
                CASE WHEN j.outcome = 'cancelled' THEN 'cancelled'
                     WHEN j.outcome IS NOT NULL THEN 'expired'
                     WHEN EXISTS (SELECT 1 FROM job_events e WHERE e.job_id = r.job_id AND e.type = '${JOB_REVIEW_EXPIRED_V1}')
                       THEN CASE WHEN r.on_deadline = 'escalate' THEN 'escalated' ELSE 'expired' END
                     ELSE 'pending' END,
                r.label, r.confidence, r.output, r.output_schema, r.held_because, r.findings, r.due_at, r.on_deadline,
                date_trunc('milliseconds', r.requested_at), r.trace_headers
           FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int[], $6::text[], $7::float8[], $8::jsonb[],
                       $9::jsonb[], $10::jsonb[], $11::jsonb[], $12::timestamptz[], $13::text[], $14::timestamptz[], $15::jsonb[])
                AS r(id, job_id, tenant_id, workflow_id, workflow_version, label, confidence, output, output_schema,
                     held_because, findings, due_at, on_deadline, requested_at, trace_headers)
           JOIN jobs j ON j.id = r.job_id
         ON CONFLICT (id) DO NOTHING`,
        [
          h.map((x) => x.event.reviewId),
          h.map((x) => x.event.jobId),
          h.map((x) => x.event.tenantId),
          h.map((x) => x.event.workflow.id),
          h.map((x) => x.event.workflow.version),
          h.map((x) => x.event.classification.label),
          h.map((x) => x.event.classification.confidence),
          h.map((x) => JSON.stringify(x.event.output ?? null)),
          h.map((x) => JSON.stringify(x.event.workflow.output.schema)),
          h.map((x) => JSON.stringify(x.event.heldBecause)),
          h.map((x) => JSON.stringify(x.event.findings)),
          h.map((x) => x.event.dueAt),
          h.map((x) => x.event.onDeadline),
          h.map((x) => x.time),
          h.map((x) => JSON.stringify(x.trace)),
        ],
      );
      this.held.length = 0;
    }
    for (const change of this.changes) {
      if (change.kind === 'decided') {
        // Usually already recorded by the decision request itself; this covers other intake replicas' views.
        const { decision, comment, reviewer, decidedAt } = change.event;
        await manager.query(
          `UPDATE reviews SET status = 'decided', decision = COALESCE(decision, $2::jsonb), updated_at = now()
            WHERE id = $1 AND status IN ('pending', 'escalated')`,
          [change.event.reviewId, JSON.stringify({ decision, comment, reviewer, decidedAt })],
        );
      } else if (change.kind === 'cancelled') {
        await manager.query(`UPDATE reviews SET status = 'cancelled', updated_at = now() WHERE job_id = $1 AND status IN ('pending', 'escalated')`, [
          change.jobId,
        ]);
      } else {
        await manager.query(
          `UPDATE reviews SET status = $2, updated_at = now() WHERE id = $1 AND status IN ('pending', 'escalated')`,
          [change.event.reviewId, change.event.action === 'reject' ? 'expired' : 'escalated'],
        );
      }
    }
    this.changes.length = 0;
  }
}
