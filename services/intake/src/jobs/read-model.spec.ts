import { JOB_DELIVERED_V1, JOB_FAILED_V1, JOB_REJECTED_V1 } from '@troupe/contracts';
import { projectEvent, STATUS_RANK } from './read-model';

describe('job read model', () => {
  it('given a delivery, then it outranks validation, so a late validated event cannot move the status back', () => {
    const delivered = projectEvent(JOB_DELIVERED_V1, { jobId: 'j', tenantId: 't', channel: 'poll', outcome: 'validated', attempts: 0 });
    expect(delivered.rank).toBeGreaterThan(STATUS_RANK.validated);
  });

  it('given a rejection, then the outcome and the reasons are recorded', () => {
    const p = projectEvent(JOB_REJECTED_V1, { reasons: [{ code: 'SCHEMA_REQUIRED', message: 'reply missing' }] });
    expect(p).toMatchObject({ status: 'rejected', outcome: 'rejected', errors: [{ code: 'SCHEMA_REQUIRED' }] });
  });

  it('given a failure after delivery, then it does not outrank delivered', () => {
    const failed = projectEvent(JOB_FAILED_V1, { jobId: 'j', tenantId: 't', stage: 'delivery', code: 'X', reason: 'y' });
    expect(failed.rank).toBeLessThan(STATUS_RANK.delivered);
    expect(failed.summary).toBe('failed in delivery: X');
  });
});

describe('delivery outcomes in the read model', () => {
  it('given a failed job whose notification was delivered, then the job stays failed (no status change)', () => {
    const p = projectEvent(JOB_DELIVERED_V1, { jobId: 'j', tenantId: 't', channel: 'webhook', outcome: 'failed', attempts: 1 });
    expect(p.status).toBeUndefined();
    expect(p.summary).toBe('failure notification delivered by webhook after 1 attempt(s)');
  });

  it('given a result published to a topic, then it counts as delivered only when no webhook is still to come', () => {
    const alone = projectEvent(JOB_DELIVERED_V1, { jobId: 'j', tenantId: 't', channel: 'topic', topic: 'troupe.results.x', outcome: 'validated', attempts: 1 });
    const withWebhook = projectEvent(JOB_DELIVERED_V1, {
      jobId: 'j',
      tenantId: 't',
      channel: 'topic',
      topic: 'troupe.results.x',
      outcome: 'validated',
      attempts: 1,
      webhookPending: true,
    });
    expect(alone).toMatchObject({ status: 'delivered', summary: 'published to troupe.results.x' });
    expect(withWebhook.status).toBeUndefined();
  });
});
