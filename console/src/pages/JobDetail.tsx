import { useState } from 'react';
import { api, type ConsoleConfig, type Job } from '../api';
import type { Navigate } from '../App';
import { ErrorNote, Json, Status, time, usd } from '../components/common';
import { Waterfall } from '../components/Waterfall';
import { usePoll } from '../hooks';

const ENDED = new Set(['delivered', 'delivery_failed', 'failed', 'rejected', 'cancelled']);

export function JobDetail({ id, config, navigate }: { id: string; config: ConsoleConfig; navigate: Navigate }) {
  const [ended, setEnded] = useState(false);
  // Fast while the job moves; slow once it has ended (a redelivery can still add to its timeline).
  const { data: job, error, reload } = usePoll(
    async () => {
      const j = await api<Job>(`/v1/jobs/${id}`);
      setEnded(ENDED.has(j.status));
      return j;
    },
    [id],
    ended ? 15_000 : 1500,
  );
  const [actionError, setActionError] = useState<Error>();
  if (!job) return <ErrorNote error={error} />;
  const cancel = async () => {
    try {
      await api(`/v1/jobs/${id}/cancel`, { method: 'POST', body: { reason: 'cancelled from the console' } });
      reload();
    } catch (e) {
      setActionError(e as Error);
    }
  };
  const steps = Object.values(job.steps ?? {});
  const trace = config.jaegerUrl
    ? `${config.jaegerUrl.replace(/\/$/, '')}/search?service=intake&tags=${encodeURIComponent(JSON.stringify({ 'troupe.job.id': job.id }))}`
    : undefined;
  return (
    <section>
      <p>
        <a href="/console/jobs" onClick={(e) => { e.preventDefault(); navigate('/jobs'); }}>
          ← Jobs
        </a>
      </p>
      <h2>
        Job <code>{job.id}</code> <Status value={job.status} />
      </h2>
      <dl className="facts">
        <dt>Workflow</dt>
        <dd>
          {job.workflow.id} v{job.workflow.version}
        </dd>
        <dt>Label</dt>
        <dd>{job.label ?? '—'}</dd>
        <dt>Outcome</dt>
        <dd>{job.outcome ?? 'running'}</dd>
        <dt>Cost</dt>
        <dd data-testid="job-cost">{usd(job.costUsd)}</dd>
        <dt>Created</dt>
        <dd>{time(job.createdAt)}</dd>
        {job.idempotencyKey && (
          <>
            <dt>Idempotency key</dt>
            <dd>{job.idempotencyKey}</dd>
          </>
        )}
        {trace && (
          <>
            <dt>Trace</dt>
            <dd>
              <a href={trace} target="_blank" rel="noreferrer">
                Open in Jaeger
              </a>
            </dd>
          </>
        )}
      </dl>
      {!ENDED.has(job.status) && <button onClick={cancel}>Cancel job</button>}
      <ErrorNote error={actionError ?? error} />
      <h3>Timeline</h3>
      <Waterfall job={job} />
      {steps.length > 0 && (
        <>
          <h3>Cost by step</h3>
          <table>
            <thead>
              <tr>
                <th>Step</th>
                <th>Model</th>
                <th>Status</th>
                <th>Tokens in/out</th>
                <th>Attempts</th>
                <th>Cost</th>
              </tr>
            </thead>
            <tbody>
              {steps.map((s) => (
                <tr key={s.id}>
                  <td>{s.id}</td>
                  <td>{s.model ?? '—'}</td>
                  <td>{s.status}</td>
                  <td>{s.usage ? `${s.usage.inputTokens} / ${s.usage.outputTokens}` : '—'}</td>
                  <td>{s.attempts?.length ?? 0}</td>
                  <td>{usd(s.costUsd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {job.result !== undefined && (
        <>
          <h3>Result</h3>
          <Json value={job.result} />
        </>
      )}
      {job.errors && job.errors.length > 0 && (
        <>
          <h3>Errors</h3>
          <Json value={job.errors} />
        </>
      )}
    </section>
  );
}
