import { useState } from 'react';
import { api, type DeadLetter } from '../api';
import { ErrorNote, time } from '../components/common';
import { usePoll } from '../hooks';

/**
 * Dead letters: list, inspect one, replay it to its original topic. A tenant's admin sees the letters
 * naming its tenant; the platform operator sees every letter, those naming no tenant (a record that
 * did not parse) included.
 */
export function DeadLetters({ role }: { role: string }) {
  const allowed = role === 'admin' || role === 'platform';
  const { data, error, reload } = usePoll(() => api<{ items: DeadLetter[] }>('/v1/admin/dead-letters?limit=100'), [], 5000);
  const [open, setOpen] = useState<DeadLetter>();
  const [notice, setNotice] = useState<string>();
  const [actionError, setActionError] = useState<Error>();
  if (!allowed) return <p className="empty">Dead letters need an admin key (a platform key for those naming no tenant).</p>;
  const inspect = async (id: string) => setOpen(await api<DeadLetter>(`/v1/admin/dead-letters/${encodeURIComponent(id)}`));
  const replay = async (letter: DeadLetter) => {
    try {
      const r = await api<{ replayedTo: string; replayCount: number }>(`/v1/admin/dead-letters/${encodeURIComponent(letter.id)}/replay`, {
        method: 'POST',
      });
      setNotice(`Replayed to ${r.replayedTo} (replay ${r.replayCount})`);
      reload();
      if (open?.id === letter.id) await inspect(letter.id);
    } catch (e) {
      setActionError(e as Error);
    }
  };
  return (
    <section>
      <h2>Dead letters</h2>
      <ErrorNote error={error ?? actionError} />
      {notice && <p className="notice" role="status">{notice}</p>}
      <table>
        <thead>
          <tr>
            <th>Stage</th>
            <th>Code</th>
            <th>Reason</th>
            <th>Job</th>
            <th>When</th>
            <th>Replays</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {data?.items.map((d) => (
            <tr key={d.id} data-testid="dead-letter">
              <td>{d.stage}</td>
              <td>
                <code>{d.code}</code>
              </td>
              <td className="reason">{d.reason}</td>
              <td>{d.jobId ? <code>{d.jobId.slice(0, 8)}</code> : '—'}</td>
              <td>{time(d.deadLetteredAt)}</td>
              <td data-testid="replay-count">{d.replayCount}</td>
              <td>
                <button onClick={() => inspect(d.id)}>Inspect</button> <button onClick={() => replay(d)}>Replay</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.items.length === 0 && (
        <p className="empty" data-testid="dead-letters-empty">
          No dead letters{role === 'platform' ? '.' : ' for this tenant (those naming no tenant need a platform key).'}
        </p>
      )}
      {open && (
        <article className="inspect">
          <h3>
            {open.eventType ?? 'message'} from <code>{open.originalTopic}</code>
          </h3>
          <p>
            {open.code}: {open.reason} {open.attempts !== null && `after ${open.attempts} attempts`}
          </p>
          <h4>Value</h4>
          <pre className="json">{pretty(open.value)}</pre>
          {open.headers && (
            <>
              <h4>Headers</h4>
              <pre className="json">{JSON.stringify(open.headers, null, 2)}</pre>
            </>
          )}
        </article>
      )}
    </section>
  );
}

const pretty = (value: string) => {
  try {
    return JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    return value;
  }
};
