import type { DeferredWrite } from '@troupe/messaging';
import type { EntityManager } from 'typeorm';

type Hold = { heldBecause: string[]; findings: { code: string; message: string; path?: string }[] };

/** Shadow jobs' review holds that did not happen (job.validated's `wouldReview`), for the replay report. */
export class WouldReviewBatch implements DeferredWrite {
  private readonly holds = new Map<string, Hold>();

  add(jobId: string, hold: Hold): void {
    this.holds.set(jobId, hold);
  }

  async flush(manager: EntityManager): Promise<void> {
    if (this.holds.size === 0) return;
    const h = [...this.holds];
    await manager.query(
      `UPDATE jobs j SET would_review = u.hold FROM unnest($1::uuid[], $2::jsonb[]) AS u(id, hold) WHERE j.id = u.id AND j.data_erased_at IS NULL`,
      [h.map(([id]) => id), h.map(([, hold]) => JSON.stringify(hold))],
    );
  }
}
