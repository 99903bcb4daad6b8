import { useState } from 'react';
import type { ReplayComparison, ReplayList, ReplayReport, ReplayTarget, ReplayView, WorkflowSummary } from '../api';
import { api } from '../api';
import { ErrorNote, Json, ms, time, usd } from '../components/common';
import { usePoll } from '../hooks';
import type { Navigate } from '../App';

const pct = (n: number | null | undefined) => (n === null || n === undefined ? '—' : `${(n * 100).toFixed(1)}%`);
const describe = (t: ReplayTarget) =>
  [t.workflowVersion && `v${t.workflowVersion}`, t.model, t.prompt && `prompt v${t.prompt.version}`, t.steps && `steps ${t.steps.join(', ')}`]
    .filter(Boolean)
    .join(' · ');

/** Replays: past jobs re-run as shadow jobs on another version, model or prompt, and their reports. */
export function Replays({ id, role, navigate }: { id?: string; role: string; navigate: Navigate }) {
  if (id) return <ReplayReportPage id={id} navigate={navigate} />;
  return <ReplayListPage role={role} navigate={navigate} />;
}

function ReplayListPage({ role, navigate }: { role: string; navigate: Navigate }) {
  const { data, error } = usePoll(() => api<ReplayList>('/v1/replays?limit=50'), [], 5000);
  return (
    <section>
      <h2>Replays</h2>
      <ErrorNote error={error} />
      {(role === 'admin' || role === 'platform') && <StartReplay navigate={navigate} />}
      <table>
        <thead>
          <tr>
            <th>Replay</th>
            <th>Workflow</th>
            <th>Runs on</th>
            <th>Jobs</th>
            <th>Status</th>
            <th>Started</th>
          </tr>
        </thead>
        <tbody>
          {data?.items.map((r) => (
            <tr key={r.id} data-testid="replay" className="clickable" onClick={() => navigate(`/replays/${r.id}`)}>
              <td>
                <code>{r.id.slice(0, 8)}</code>
              </td>
              <td>{r.workflow.id}</td>
              <td>{describe(r.target)}</td>
              <td>{r.jobs}</td>
              <td>{r.status}</td>
              <td>{time(r.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.items.length === 0 && <p className="empty">No replays yet.</p>}
    </section>
  );
}

/** A window of one workflow's finished jobs on another version (the API and CLI take models and prompts too). */
function StartReplay({ navigate }: { navigate: Navigate }) {
  const { data: workflows } = usePoll(() => api<{ items: WorkflowSummary[] }>('/v1/workflows'), [], 0);
  const [workflow, setWorkflow] = useState('');
  const [version, setVersion] = useState('');
  const [limit, setLimit] = useState('20');
  const [error, setError] = useState<Error>();
  const ids = [...new Set(workflows?.items.map((w) => w.id) ?? [])];
  const versions = workflows?.items.filter((w) => w.id === workflow).map((w) => w.version) ?? [];
  const start = async (e: React.FormEvent) => {
    e.preventDefault();
    try {
      const created = await api<ReplayView>('/v1/replays', {
        method: 'POST',
        body: { window: { workflow, limit: Number(limit) }, target: { workflowVersion: Number(version) } },
      });
      navigate(`/replays/${created.id}`);
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <form className="filters" onSubmit={start} aria-label="Start a replay">
      <label>
        Workflow
        <select value={workflow} onChange={(e) => { setWorkflow(e.target.value); setVersion(''); }}>
          <option value="">—</option>
          {ids.map((w) => (
            <option key={w}>{w}</option>
          ))}
        </select>
      </label>
      <label>
        On version
        <select value={version} onChange={(e) => setVersion(e.target.value)}>
          <option value="">—</option>
          {versions.map((v) => (
            <option key={v}>{v}</option>
          ))}
        </select>
      </label>
      <label>
        Last jobs
        <input type="number" min={1} max={500} value={limit} onChange={(e) => setLimit(e.target.value)} />
      </label>
      <button type="submit" disabled={!workflow || !version}>
        Replay as shadow jobs
      </button>
      <ErrorNote error={error} />
    </form>
  );
}

function ReplayReportPage({ id, navigate }: { id: string; navigate: Navigate }) {
  const { data: r, error } = usePoll(() => api<ReplayReport>(`/v1/replays/${id}`), [id], 2000);
  const [open, setOpen] = useState<string>();
  if (!r) return <ErrorNote error={error} />;
  const a = r.aggregate;
  const verdicts = (v: Record<string, number>) => Object.entries(v).map(([k, n]) => `${k} ${n}`).join(', ') || '—';
  return (
    <section>
      <h2>
        Replay <code>{r.id.slice(0, 8)}</code> of {r.workflow.id} on {describe(r.target)}
      </h2>
      <ErrorNote error={error} />
      <p data-testid="replay-status">
        {r.status} · {a.finished}/{a.jobs} shadow jobs finished{r.skipped.length > 0 && ` · ${r.skipped.length} skipped`}
        {r.chargeBudget ? ' · charged to budgets' : ' · no budget charged'}
      </p>
      <dl className="summary" data-testid="replay-aggregate">
        <dt>Cost</dt>
        <dd>
          {usd(a.costUsd.original)} → {usd(a.costUsd.shadow)} ({a.costUsd.delta >= 0 ? '+' : ''}
          {usd(a.costUsd.delta)})
        </dd>
        <dt>Latency p50 / p95</dt>
        <dd>
          {fmt(a.latencyMs.original.p50)} / {fmt(a.latencyMs.original.p95)} → {fmt(a.latencyMs.shadow.p50)} / {fmt(a.latencyMs.shadow.p95)}
        </dd>
        <dt>Verdicts</dt>
        <dd>
          {verdicts(a.verdicts.original)} → {verdicts(a.verdicts.shadow)} ({a.verdicts.changed} changed)
        </dd>
        <dt>Outputs</dt>
        <dd>
          {a.outputs.exact}/{a.outputs.compared} identical, mean similarity {pct(a.outputs.meanSimilarity)}
        </dd>
        <dt>Reference answers</dt>
        <dd>{a.references.compared === 0 ? '—' : `${a.references.exact}/${a.references.compared} identical, mean similarity ${pct(a.references.meanSimilarity)}`}</dd>
      </dl>
      <table>
        <thead>
          <tr>
            <th>Original</th>
            <th>Shadow</th>
            <th>Verdict</th>
            <th>Similarity</th>
            <th>Reference</th>
            <th>Cost delta</th>
          </tr>
        </thead>
        <tbody>
          {r.comparisons.map((c) => (
            <Row key={c.shadow.jobId} c={c} open={open === c.shadow.jobId} toggle={() => setOpen(open === c.shadow.jobId ? undefined : c.shadow.jobId)} navigate={navigate} />
          ))}
        </tbody>
      </table>
    </section>
  );
}

const fmt = (n: number | null) => (n === null ? '—' : ms(n));

function Row({ c, open, toggle, navigate }: { c: ReplayComparison; open: boolean; toggle: () => void; navigate: Navigate }) {
  const link = (jobId: string) => (
    <a href={`/console/jobs/${jobId}`} onClick={(e) => { e.preventDefault(); e.stopPropagation(); navigate(`/jobs/${jobId}`); }}>
      <code>{jobId.slice(0, 8)}</code>
    </a>
  );
  return (
    <>
      <tr data-testid="comparison" className={`clickable${c.verdictChanged ? ' changed' : ''}`} onClick={toggle}>
        <td>{link(c.original.jobId)}</td>
        <td>{link(c.shadow.jobId)}</td>
        <td>{c.verdictChanged ? `${c.original.verdict} → ${c.shadow.verdict}` : c.shadow.verdict}</td>
        <td>{c.output ? pct(c.output.similarity) : '—'}</td>
        <td>{c.reference ? `${c.reference.decision ?? c.reference.source}${c.reference.comparison ? ` · ${pct(c.reference.comparison.similarity)}` : ''}` : '—'}</td>
        <td>{usd(c.costDeltaUsd)}</td>
      </tr>
      {open && (
        <tr className="detail">
          <td colSpan={6}>
            <div className="side-by-side">
              <div>
                <h4>Original ({c.original.verdict})</h4>
                {c.original.heldBecause.length > 0 && <p>held because {c.original.heldBecause.join('; ')}</p>}
                {c.original.reasons.map((x, i) => (
                  <p key={i} className="reason">{x.code}: {x.message}</p>
                ))}
                <Json value={c.original.output ?? null} />
              </div>
              <div>
                <h4>Shadow ({c.shadow.verdict})</h4>
                {c.shadow.heldBecause.length > 0 && <p>would be held because {c.shadow.heldBecause.join('; ')}</p>}
                {c.shadow.reasons.map((x, i) => (
                  <p key={i} className="reason">{x.code}: {x.message}</p>
                ))}
                <Json value={c.shadow.output ?? null} />
              </div>
            </div>
            {c.output && c.output.diff.length > 0 && (
              <>
                <h4>Diff (JSON Patch){c.output.diffTruncated && ', first 50 operations'}</h4>
                <Json value={c.output.diff} />
              </>
            )}
          </td>
        </tr>
      )}
    </>
  );
}
