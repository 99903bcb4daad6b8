import { JOB_DELIVERED_V1, JOB_DELIVERY_ATTEMPTED_V1, JOB_FAILED_V1, JOB_GENERATED_V1, JOB_VALIDATED_V1 } from '@troupe/contracts';
import { releasable, type JobProgress, type ReadModelEntry } from './read-model.batch';

const entry = (type: string, time: string, projection: ReadModelEntry['projection']): ReadModelEntry => ({
  event: { eventId: `${type}@${time}`, jobId: 'j', type, source: 'test', time, summary: projection.summary },
  projection,
});
const generated = entry(JOB_GENERATED_V1, '2026-01-01T00:00:02.000001Z', { status: 'generated', rank: 2, summary: 'generated' });
const validated = entry(JOB_VALIDATED_V1, '2026-01-01T00:00:03.000001Z', { status: 'validated', rank: 3, outcome: 'succeeded', summary: 'validated' });
const attempted = entry(JOB_DELIVERY_ATTEMPTED_V1, '2026-01-01T00:00:04.000001Z', { rank: -1, summary: 'attempt 1' });
const delivered = entry(JOB_DELIVERED_V1, '2026-01-01T00:00:04.000002Z', { status: 'delivered', rank: 5, summary: 'delivered' });
const ids = (entries: ReadModelEntry[]) => entries.map((e) => e.event.type);

describe('the read model holds an event until the one it follows is in', () => {
  it('given the webhook events before the job.validated they deliver, then they wait, and the job shows what it was', () => {
    const jobs = new Map<string, JobProgress>([['j', { rank: 2, hasOutcome: false }]]);
    const { ready, waiting } = releasable([attempted, delivered], jobs);
    expect(ready).toEqual([]);
    expect(ids(waiting)).toEqual([JOB_DELIVERY_ATTEMPTED_V1, JOB_DELIVERED_V1]);
    expect(jobs.get('j')).toEqual({ rank: 2, hasOutcome: false });
  });

  it('given the held events and then the job.validated, then all three are applied together', () => {
    const jobs = new Map<string, JobProgress>([['j', { rank: 2, hasOutcome: false }]]);
    const { ready, waiting } = releasable([delivered, attempted, validated], jobs);
    expect(ids(ready)).toEqual([JOB_VALIDATED_V1, JOB_DELIVERY_ATTEMPTED_V1, JOB_DELIVERED_V1]);
    expect(waiting).toEqual([]);
    expect(jobs.get('j')).toEqual({ rank: 5, hasOutcome: true });
  });

  it('given a job.validated before the job.generated it validates, then one event applied lets the next through in the same pass', () => {
    const jobs = new Map<string, JobProgress>([['j', { rank: 1, hasOutcome: false }]]);
    const { ready } = releasable([validated, delivered, generated], jobs);
    expect(ids(ready)).toEqual([JOB_GENERATED_V1, JOB_VALIDATED_V1, JOB_DELIVERED_V1]);
  });

  it('given force (an event held too long), then it is applied without its predecessor', () => {
    const jobs = new Map<string, JobProgress>([['j', { rank: 1, hasOutcome: false }]]);
    expect(ids(releasable([delivered], jobs, true).ready)).toEqual([JOB_DELIVERED_V1]);
  });

  it('given a job this intake does not know, then its events pass (the writes ignore them)', () => {
    expect(ids(releasable([delivered], new Map()).ready)).toEqual([JOB_DELIVERED_V1]);
  });

  it('given a failure, then it needs nothing before it, and a failure notification then follows it', () => {
    const jobs = new Map<string, JobProgress>([['j', { rank: 0, hasOutcome: false }]]);
    const failed = entry(JOB_FAILED_V1, '2026-01-01T00:00:05Z', { status: 'failed', rank: 4, outcome: 'failed', summary: 'failed' });
    const notified = entry(JOB_DELIVERED_V1, '2026-01-01T00:00:06Z', { rank: -1, summary: 'failure notification delivered' });
    expect(ids(releasable([notified, failed], jobs).ready)).toEqual([JOB_FAILED_V1, JOB_DELIVERED_V1]);
  });
});
