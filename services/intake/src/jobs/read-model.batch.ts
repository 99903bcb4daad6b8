import type { DeferredWrite } from '@troupe/messaging';
import type { EntityManager } from 'typeorm';
import { follows, type JobProjection } from './read-model';

export interface TimelineEvent {
  eventId: string;
  jobId: string;
  type: string;
  source: string;
  /** The envelope's ISO time, microseconds kept: the timeline's order. */
  time: string;
  summary: string;
}

/** An event and what it changes in its job. */
export interface ReadModelEntry {
  event: TimelineEvent;
  projection: JobProjection;
}

/** What the read model shows of a job, as far as ordering is concerned. */
export interface JobProgress {
  rank: number;
  hasOutcome: boolean;
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
 * Which entries can be applied now and which must wait for the event they follow (see `follows`):
 * applying one may let another through (a `job.validated` lets its `job.delivered` in), so this
 * repeats until nothing more moves. Entries of jobs not in `jobs` (another deployment's) pass: the
 * writes ignore them. `force` applies everything (a held event whose predecessor never came).
 */
export function releasable(
  entries: ReadModelEntry[],
  jobs: Map<string, JobProgress>,
  force = false,
): { ready: ReadModelEntry[]; waiting: ReadModelEntry[] } {
  const ready: ReadModelEntry[] = [];
  let pending = [...entries].sort((a, b) => (a.event.time < b.event.time ? -1 : a.event.time > b.event.time ? 1 : 0));
  for (let moved = true; moved && pending.length > 0; ) {
    moved = false;
    const next: ReadModelEntry[] = [];
    for (const entry of pending) {
      const job = jobs.get(entry.event.jobId);
      const needs = follows(entry.event.type);
      const met = !job || force || !needs || (needs === 'outcome' ? job.hasOutcome : job.rank >= needs.rank);
      if (!met) {
        next.push(entry);
        continue;
      }
      ready.push(entry);
      moved = true;
      const p = entry.projection;
      if (job && p.status && p.rank > job.rank) job.rank = p.rank;
      if (job && p.outcome) job.hasOutcome = true;
    }
    pending = next;
  }
  return { ready, waiting: pending };
}

/**
 * The intake read model's writes for a whole consumer chunk: every timeline entry in one INSERT and
 * every touched job in one UPDATE, whatever the number of events. A job's status only moves forward
 * by rank, so events of different topics may arrive in any order; an event that arrives before the
 * one it follows is held (`held_job_events`) until that one is in, so the job's status, outcome and
 * timeline always agree.
 */
export class ReadModelBatch implements DeferredWrite {
  private readonly entries: ReadModelEntry[] = [];

  add(event: TimelineEvent, projection: JobProjection): void {
    this.entries.push({ event, projection });
  }

  async flush(manager: EntityManager): Promise<void> {
    if (this.entries.length === 0) return;
    await applyEntries(manager, this.entries, [...new Set(this.entries.map((e) => e.event.jobId))]);
  }
}

/**
 * Applies held events older than `heldForMs` whatever they wait for (their predecessor was
 * dead-lettered, or never comes): a stuck timeline would hide what did happen. Returns how many jobs.
 */
export async function releaseStaleHeldEvents(manager: EntityManager, heldForMs: number, limit = 500): Promise<number> {
  const rows: { job_id: string }[] = await manager.query(
    `SELECT DISTINCT job_id FROM held_job_events WHERE held_at < now() - $1 * interval '1 millisecond' LIMIT $2`,
    [heldForMs, limit],
  );
  if (rows.length > 0) await applyEntries(manager, [], rows.map((r) => r.job_id), true);
  return rows.length;
}

async function applyEntries(manager: EntityManager, fresh: ReadModelEntry[], jobIds: string[], force = false): Promise<void> {
  // The jobs are locked (in id order, so two replicas' chunks cannot deadlock) before their held events
  // are read: a replica holding an event and another applying its predecessor are serialised, so no
  // event is held after the one it waits for has been applied.
  const progress: { id: string; status_rank: number; has_outcome: boolean }[] = await manager.query(
    `SELECT id, status_rank, outcome IS NOT NULL AS has_outcome FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
    [jobIds],
  );
  const jobs = new Map(progress.map((j) => [j.id, { rank: Number(j.status_rank), hasOutcome: j.has_outcome }]));
  type HeldRow = { event_id: string; job_id: string; type: string; source: string; time: string; projection: JobProjection };
  // TypeORM answers a DELETE with [rows, count].
  const [held]: [HeldRow[], number] =
    jobs.size === 0
      ? [[], 0]
      : await manager.query(
          `DELETE FROM held_job_events WHERE job_id = ANY($1::uuid[]) RETURNING event_id, job_id, type, source, time, projection`,
          [[...jobs.keys()]],
        );
  const entries = [
    ...held.map((h) => ({
      event: { eventId: h.event_id, jobId: h.job_id, type: h.type, source: h.source, time: h.time, summary: h.projection.summary },
      projection: h.projection,
    })),
    ...fresh,
  ];
  const { ready, waiting } = releasable(entries, jobs, force);
  if (waiting.length > 0) {
    const w = waiting.map((x) => x.event);
    await manager.query(
      `INSERT INTO held_job_events (event_id, job_id, type, source, time, projection)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[])
       ON CONFLICT (event_id) DO NOTHING`,
      [
        w.map((e) => e.eventId),
        w.map((e) => e.jobId),
        w.map((e) => e.type),
        w.map((e) => e.source),
        w.map((e) => e.time),
        waiting.map((x) => JSON.stringify(x.projection)),
      ],
    );
  }
  if (ready.length > 0) await write(manager, ready);
}

function fold(entries: ReadModelEntry[]): Map<string, JobFold> {
  const jobs = new Map<string, JobFold>();
  for (const { event, projection: p } of entries) {
    const f = jobs.get(event.jobId) ?? { rank: -1, status: null, latest: {} };
    if (p.status && p.rank > f.rank) {
      f.rank = p.rank;
      f.status = p.status;
    }
    const at = Date.parse(event.time);
    const set = (key: keyof JobFold['latest'], value: unknown) => {
      if (value === undefined) return;
      const current = f.latest[key];
      if (!current || current.at <= at) f.latest[key] = { value, at };
    };
    set('outcome', p.outcome);
    set('result', p.result);
    set('errors', p.errors);
    set('costUsd', p.costUsd);
    set('label', p.label);
    if (p.steps) f.steps = { ...f.steps, ...p.steps };
    if (p.stepSummaries) f.stepSummaries = { ...f.stepSummaries, ...p.stepSummaries };
    jobs.set(event.jobId, f);
  }
  return jobs;
}

async function write(manager: EntityManager, entries: ReadModelEntry[]): Promise<void> {
  const e = entries.map((x) => x.event);
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
  const folded = fold(entries);
  const ids = [...folded.keys()];
  const folds = [...folded.values()];
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
