import { useEffect, useState } from 'react';
import { api, type Review } from '../api';
import { ErrorNote, Json, time } from '../components/common';
import { usePoll } from '../hooks';

/**
 * The review queue: j/k move between held outputs, a approves, e edits (Ctrl+Enter sends the edit),
 * r rejects. An edit is checked by the server against the schema shown beside it.
 */
export function Reviews() {
  const { data, error, reload } = usePoll(() => api<{ items: Review[] }>('/v1/reviews?status=pending'), [], 3000);
  const [selected, setSelected] = useState(0);
  const [editing, setEditing] = useState<string>();
  const [comment, setComment] = useState('');
  const [actionError, setActionError] = useState<Error>();
  const [notice, setNotice] = useState<string>();
  const items = data?.items ?? [];
  const review = items[Math.min(selected, items.length - 1)];

  const decide = async (decision: 'approve' | 'edit' | 'reject') => {
    if (!review) return;
    setActionError(undefined);
    try {
      const body: Record<string, unknown> = { decision };
      if (decision === 'edit') body.output = JSON.parse(editing ?? 'null');
      if (comment.trim()) body.comment = comment.trim();
      await api(`/v1/reviews/${review.id}/decision`, { method: 'POST', body });
      setNotice(`${decision === 'approve' ? 'Approved' : decision === 'edit' ? 'Edited' : 'Rejected'} job ${review.jobId.slice(0, 8)}`);
      setEditing(undefined);
      setComment('');
      reload();
    } catch (e) {
      setActionError(e instanceof SyntaxError ? new Error(`The edited output is not JSON: ${e.message}`) : (e as Error));
    }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const typing = e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLInputElement;
      if (typing) {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && editing !== undefined) void decide('edit');
        if (e.key === 'Escape') setEditing(undefined);
        return;
      }
      if (e.key === 'j') setSelected((i) => Math.min(i + 1, items.length - 1));
      else if (e.key === 'k') setSelected((i) => Math.max(i - 1, 0));
      else if (e.key === 'a') void decide('approve');
      else if (e.key === 'r') void decide('reject');
      else if (e.key === 'e' && review) {
        e.preventDefault();
        setEditing(JSON.stringify(review.output, null, 2));
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  });

  return (
    <section>
      <h2>Review queue</h2>
      <p className="hint">
        <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>a</kbd> approve · <kbd>e</kbd> edit (<kbd>Ctrl</kbd>+<kbd>Enter</kbd> sends) · <kbd>r</kbd> reject
      </p>
      <ErrorNote error={error} />
      {notice && <p className="notice" role="status">{notice}</p>}
      {items.length === 0 && data && <p className="empty">Nothing is waiting for review.</p>}
      <div className="split">
        <ul className="queue">
          {items.map((r, i) => (
            <li key={r.id} className={r === review ? 'selected' : ''} onClick={() => setSelected(i)}>
              <strong>{r.workflow.id}</strong> · {r.label} · {Math.round(r.confidence * 100)}%
              <br />
              <small>due {time(r.dueAt)}</small>
            </li>
          ))}
        </ul>
        {review && (
          <article className="review" data-testid="review">
            <h3>
              Job <code>{review.jobId}</code>
            </h3>
            <p>
              <strong>Held because:</strong> {review.heldBecause.join('; ')}
            </p>
            {review.findings.length > 0 && (
              <ul className="findings">
                {review.findings.map((f, i) => (
                  <li key={i}>
                    <code>{f.code}</code> {f.path && <code>{f.path}</code>} {f.message}
                  </li>
                ))}
              </ul>
            )}
            <h4>Input</h4>
            <pre className="input">{review.input.text}</pre>
            <div className="split">
              <div>
                <h4>{editing !== undefined ? 'Edited output' : 'Output'}</h4>
                {editing !== undefined ? (
                  <textarea aria-label="Edited output" autoFocus rows={12} value={editing} onChange={(e) => setEditing(e.target.value)} />
                ) : (
                  <Json value={review.output} />
                )}
              </div>
              <div>
                <h4>Output schema</h4>
                <Json value={review.outputSchema} />
              </div>
            </div>
            <input aria-label="Comment" placeholder="comment (optional)" value={comment} onChange={(e) => setComment(e.target.value)} />
            <div className="actions">
              <button onClick={() => decide('approve')}>Approve (a)</button>
              {editing === undefined ? (
                <button onClick={() => setEditing(JSON.stringify(review.output, null, 2))}>Edit (e)</button>
              ) : (
                <button onClick={() => decide('edit')}>Send edit (Ctrl+Enter)</button>
              )}
              <button className="danger" onClick={() => decide('reject')}>
                Reject (r)
              </button>
            </div>
            <ErrorNote error={actionError} />
          </article>
        )}
      </div>
    </section>
  );
}
