import type { Job, Step } from '../api';
import { ms, usd } from './common';

interface Row {
  kind: 'stage' | 'step' | 'attempt';
  label: string;
  start: number;
  end: number;
  detail: string;
  failed?: boolean;
}

/** `troupe.job.delivery-failed.v1` -> `delivery-failed`. */
const shortType = (type: string) => type.replace(/^troupe\.(job\.)?/, '').replace(/\.v\d+$/, '');

/**
 * The job on a time axis: each stage from the event before it to its own event, each step of the
 * graph from its start for its duration, and under a step its model attempts (fallbacks in order).
 */
export function Waterfall({ job }: { job: Job }) {
  const t0 = Date.parse(job.createdAt);
  const rows: Row[] = [];
  const timeline = job.timeline ?? [];
  let previous = t0;
  for (const entry of timeline) {
    const at = Date.parse(entry.time);
    rows.push({
      kind: 'stage',
      label: `${entry.source.replace(/^troupe\//, '')} · ${shortType(entry.type)}`,
      start: previous - t0,
      end: Math.max(at - t0, previous - t0),
      detail: entry.summary,
      failed: /failed|rejected|cancelled/.test(entry.type),
    });
    previous = Math.max(previous, at);
  }
  const steps = Object.values(job.steps ?? {}) as Step[];
  for (const step of steps) {
    const start = step.startedAt ? Date.parse(step.startedAt) - t0 : NaN;
    if (Number.isNaN(start)) continue;
    const why = (step.decisions ?? []).filter((d) => d.action !== 'selected').map((d) => `${d.action} ${d.model}: ${d.reason}`);
    rows.push({
      kind: 'step',
      label: `step ${step.id}${step.run > 1 ? ` (run ${step.run})` : ''}`,
      start,
      end: start + step.latencyMs,
      detail: [step.status, step.model && `model ${step.model}`, step.route && `route ${step.route}`, ms(step.latencyMs), usd(step.costUsd), step.reason, ...why]
        .filter(Boolean)
        .join(' · '),
      failed: step.status === 'failed',
    });
    let offset = start;
    for (const attempt of step.attempts ?? []) {
      rows.push({
        kind: 'attempt',
        label: `${attempt.model} #${attempt.try}`,
        start: offset,
        end: offset + attempt.latencyMs,
        detail: `${attempt.outcome}${attempt.errorKind ? ` (${attempt.errorKind})` : ''} · ${ms(attempt.latencyMs)} · ${usd(attempt.costUsd)}${attempt.error ? ` · ${attempt.error}` : ''}`,
        failed: attempt.outcome === 'failed',
      });
      offset += attempt.latencyMs;
    }
  }
  const total = Math.max(1, ...rows.map((r) => r.end));
  const pct = (n: number) => `${(n / total) * 100}%`;
  return (
    <div className="waterfall" role="figure" aria-label="Job timeline">
      <div className="axis">
        <span>0</span>
        <span>{ms(total / 2)}</span>
        <span>{ms(total)}</span>
      </div>
      {rows.map((row, i) => (
        <div key={i} className={`wf-row wf-${row.kind}${row.failed ? ' wf-failed' : ''}`} data-testid={`wf-${row.kind}`}>
          <div className="wf-label" title={row.label}>
            {row.label}
          </div>
          <div className="wf-track">
            <div className="wf-bar" style={{ left: pct(row.start), width: `max(2px, ${pct(row.end - row.start)})` }} />
          </div>
          <div className="wf-detail">
            <span className="wf-duration">{ms(row.end - row.start)}</span> {row.detail}
          </div>
        </div>
      ))}
    </div>
  );
}
