import { useState } from 'react';
import { api, type Job, JOB_STATUSES, query } from '../api';
import type { Navigate } from '../App';
import { ErrorNote, Status, time, usd } from '../components/common';
import { usePoll } from '../hooks';

interface Filters {
  status: string;
  workflow: string;
  label: string;
  from: string;
  to: string;
  q: string;
}
const EMPTY: Filters = { status: '', workflow: '', label: '', from: '', to: '', q: '' };
const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** Jobs, newest first, filtered and searched; refreshed every few seconds while the tab is visible. */
export function Jobs({ navigate }: { navigate: Navigate }) {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const { data, error } = usePoll(
    () =>
      api<{ items: Job[]; nextCursor: string | null }>(
        `/v1/jobs${query({ ...filters, from: iso(filters.from), to: iso(filters.to), limit: 50, cursor })}`,
      ),
    [JSON.stringify(filters), cursor],
  );
  const field = (name: keyof Filters) => ({
    value: draft[name],
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setDraft({ ...draft, [name]: e.target.value }),
  });
  return (
    <section>
      <h2>Jobs</h2>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
          setCursors([undefined]);
        }}
      >
        <input aria-label="Search by job id or idempotency key" placeholder="Job id or idempotency key" {...field('q')} />
        <select aria-label="Status" {...field('status')}>
          <option value="">any status</option>
          {JOB_STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <input aria-label="Workflow" placeholder="workflow" {...field('workflow')} />
        <input aria-label="Label" placeholder="label" {...field('label')} />
        <input aria-label="From" type="datetime-local" {...field('from')} />
        <input aria-label="To" type="datetime-local" {...field('to')} />
        <button type="submit">Apply</button>
      </form>
      <ErrorNote error={error} />
      <table>
        <thead>
          <tr>
            <th>Job</th>
            <th>Workflow</th>
            <th>Label</th>
            <th>Status</th>
            <th>Cost</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {data?.items.map((job) => (
            <tr key={job.id} className="clickable" onClick={() => navigate(`/jobs/${job.id}`)}>
              <td>
                <a href={`/console/jobs/${job.id}`} onClick={(e) => e.preventDefault()}>
                  <code>{job.id.slice(0, 8)}</code>
                </a>
              </td>
              <td>
                {job.workflow.id} v{job.workflow.version}
              </td>
              <td>{job.label ?? '—'}</td>
              <td>
                <Status value={job.status} />
              </td>
              <td>{usd(job.costUsd)}</td>
              <td>{time(job.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.items.length === 0 && <p className="empty">No jobs match.</p>}
      <div className="pager">
        <button disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer
        </button>
        <button disabled={!data?.nextCursor} onClick={() => setCursors([...cursors, data!.nextCursor!])}>
          Older
        </button>
      </div>
    </section>
  );
}
