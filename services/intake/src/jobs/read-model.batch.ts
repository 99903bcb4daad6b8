import type { DeferredWrite } from '@troupe/messaging';
import type { EntityManager } from 'typeorm';
import type { JobProjection } from './read-model';

interface TimelineEvent {
  eventId: string;
  jobId: string;
  type: string;
  source: string;
  /** The envelope's ISO time, microseconds kept: the timeline's order. */
  time: string;
  summary: string;
}

/** The job is cancelled already, or this chunk cancels it. */
const CANCELLED = `(j.status = 'cancelled' OR (u.status = 'cancelled' AND u.rank > j.status_rank))`;

/** One job's changes from all its events in a chunk, folded. */
interface JobFold {
  rank: number;
  status: string | null;
  /** Later events win for these; `at` is the event time that set each. */
  latest: Partial<Record<'outcome' | 'result' | 'errors' | 'costUsd' | 'label', { value: unknown; at: number }>>;
  /** Step results and summaries by step id; later events win. */
  steps?: Record<string, unknown>;
  stepSummaries?: Record<string, unknown>;
}

/**
 * The intake read model's writes for a whole consumer chunk: every timeline entry in one INSERT and
 * every touched job in one UPDATE, whatever the number of events. A job's status only moves forward
 * by rank, so events of different topics may arrive in any order.
 */
export class ReadModelBatch implements DeferredWrite {
  private readonly events: TimelineEvent[] = [];
  private readonly jobs = new Map<string, JobFold>();

  add(event: TimelineEvent, p: JobProjection): void {
    this.events.push(event);
    const fold = this.jobs.get(event.jobId) ?? { rank: -1, status: null, latest: {} };
    if (p.status && p.rank > fold.rank) {
      fold.rank = p.rank;
      fold.status = p.status;
    }
    const at = Date.parse(event.time);
    const set = (key: keyof JobFold['latest'], value: unknown) => {
      if (value === undefined) return;
      const current = fold.latest[key];
      if (!current || current.at <= at) fold.latest[key] = { value, at };
    };
    set('outcome', p.outcome);
    set('result', p.result);
    set('errors', p.errors);
    set('costUsd', p.costUsd);
    set('label', p.label);
    if (p.steps) fold.steps = { ...fold.steps, ...p.steps };
    if (p.stepSummaries) fold.stepSummaries = { ...fold.stepSummaries, ...p.stepSummaries };
    this.jobs.set(event.jobId, fold);
  }

  async flush(manager: EntityManager): Promise<void> {
    if (this.events.length === 0) return;
    const e = this.events;
    // Events of jobs this intake does not know (another deployment's) are ignored, not failed.
    await manager.query(
      `INSERT INTO job_events (event_id, job_id, type, source, time, summary)
       SELECT e.* FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::text[])
                    AS e(event_id, job_id, type, source, time, summary)
        WHERE EXISTS (SELECT 1 FROM jobs WHERE jobs.id = e.job_id)
       ON CONFLICT (event_id) DO NOTHING`,
      [
        e.map((x) => x.eventId),
        e.map((x) => x.jobId),
        e.map((x) => x.type),
        e.map((x) => x.source),
        e.map((x) => x.time),
        e.map((x) => x.summary),
      ],
    );
    const ids = [...this.jobs.keys()];
    const folds = [...this.jobs.values()];
    const json = (v: { value: unknown } | undefined) => (v === undefined ? null : JSON.stringify(v.value));
    // A cancelled job keeps outcome `cancelled` and shows no result, whatever a stage that raced the
    // cancel emitted (delivery delivered nothing of it). Steps: summaries fill gaps, step events win.
    await manager.query(
      `UPDATE jobs j SET
         status      = CASE WHEN u.status IS NOT NULL AND u.rank > j.status_rank THEN u.status ELSE j.status END,
         status_rank = CASE WHEN u.status IS NOT NULL THEN GREATEST(j.status_rank, u.rank) ELSE j.status_rank END,
         outcome     = CASE WHEN ${CANCELLED} THEN 'cancelled' ELSE COALESCE(u.outcome, j.outcome) END,
         result      = CASE WHEN ${CANCELLED} THEN NULL ELSE COALESCE(u.result, j.result) END,
         errors      = COALESCE(u.errors, j.errors),
         cost_usd    = COALESCE(u.cost_usd, j.cost_usd),
         label       = COALESCE(u.label, j.label),
         steps       = CASE WHEN u.steps IS NULL AND u.summaries IS NULL THEN j.steps
                            ELSE COALESCE(u.summaries, '{}') || COALESCE(j.steps, '{}') || COALESCE(u.steps, '{}') END,
         updated_at  = now()
        FROM unnest($1::uuid[], $2::float8[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[], $7::numeric[], $8::jsonb[], $9::jsonb[], $10::text[])
             AS u(id, rank, status, outcome, result, errors, cost_usd, steps, summaries, label)
       WHERE j.id = u.id`,
      [
        ids,
        folds.map((f) => f.rank),
        folds.map((f) => f.status),
        folds.map((f) => (f.latest.outcome?.value as string | undefined) ?? null),
        folds.map((f) => json(f.latest.result)),
        folds.map((f) => json(f.latest.errors)),
        folds.map((f) => (f.latest.costUsd?.value as number | undefined) ?? null),
        folds.map((f) => (f.steps ? JSON.stringify(f.steps) : null)),
        folds.map((f) => (f.stepSummaries ? JSON.stringify(f.stepSummaries) : null)),
        folds.map((f) => (f.latest.label?.value as string | undefined) ?? null),
      ],
    );
  }
}
