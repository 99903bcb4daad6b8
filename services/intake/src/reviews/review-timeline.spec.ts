import { JOB_REVIEW_REQUESTED_V1, REVIEW_DECIDED_V1 } from '@troupe/contracts';
import { projectEvent, STATUS_RANK } from '../jobs/read-model';

describe('review events in the job read model', () => {
  it('given a review hold, then the job is awaiting_review: above generated, below any outcome', () => {
    const p = projectEvent(JOB_REVIEW_REQUESTED_V1, { heldBecause: ['label complaint'], dueAt: '2026-01-01T00:00:00.000Z' });
    expect(p.status).toBe('awaiting_review');
    expect(p.rank).toBeGreaterThan(STATUS_RANK.generated);
    expect(p.rank).toBeLessThan(Math.min(STATUS_RANK.validated, STATUS_RANK.rejected));
    expect(p.summary).toBe('held for review (label complaint) until 2026-01-01T00:00:00.000Z');
  });

  it('given a decision, then the timeline names the decision, the reviewer, the time and the comment, and the status is left to the outcome', () => {
    const p = projectEvent(REVIEW_DECIDED_V1, {
      decision: 'reject',
      reviewer: { keyId: 'abcd1234', role: 'reviewer' },
      decidedAt: '2026-01-01T10:00:00.000Z',
      comment: 'off-topic',
    });
    expect(p).toEqual({ rank: -1, summary: 'review rejected by reviewer key abcd1234 at 2026-01-01T10:00:00.000Z: off-topic' });
  });
});
