import { api, type WorkflowSummary } from '../api';
import { ErrorNote } from '../components/common';
import { usePoll } from '../hooks';

const W = 170;
const H = 54;
const GAP_X = 60;
const GAP_Y = 24;

/** A step graph drawn left to right: a step's column is the length of the longest path to it. */
function StepGraph({ steps }: { steps: WorkflowSummary['steps'] }) {
  const depth = new Map<string, number>();
  const depthOf = (id: string, seen = new Set<string>()): number => {
    if (depth.has(id)) return depth.get(id)!;
    if (seen.has(id)) return 0;
    seen.add(id);
    const step = steps.find((s) => s.id === id);
    const d = step && step.needs.length ? 1 + Math.max(...step.needs.map((n) => depthOf(n, seen))) : 0;
    depth.set(id, d);
    return d;
  };
  steps.forEach((s) => depthOf(s.id));
  const columns: string[][] = [];
  for (const s of steps) (columns[depth.get(s.id)!] ??= []).push(s.id);
  const pos = new Map<string, { x: number; y: number }>();
  columns.forEach((ids, c) => ids.forEach((id, r) => pos.set(id, { x: c * (W + GAP_X), y: r * (H + GAP_Y) })));
  const width = columns.length * (W + GAP_X) - GAP_X + 2;
  const height = Math.max(...columns.map((c) => c.length)) * (H + GAP_Y) - GAP_Y + 2;
  return (
    <svg className="graph" width={width} height={height} viewBox={`-1 -1 ${width} ${height}`} role="img" aria-label="step graph">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
          <path d="M0,0 L10,5 L0,10 z" fill="#8892a6" />
        </marker>
      </defs>
      {steps.flatMap((s) =>
        s.needs.map((n) => {
          const a = pos.get(n)!;
          const b = pos.get(s.id)!;
          const x1 = a.x + W;
          const y1 = a.y + H / 2;
          const x2 = b.x;
          const y2 = b.y + H / 2;
          return <path key={`${n}-${s.id}`} d={`M${x1},${y1} C${x1 + GAP_X / 2},${y1} ${x2 - GAP_X / 2},${y2} ${x2},${y2}`} className="edge" markerEnd="url(#arrow)" />;
        }),
      )}
      {steps.map((s) => {
        const p = pos.get(s.id)!;
        return (
          <g key={s.id} transform={`translate(${p.x},${p.y})`} className={`node node-${s.kind}`}>
            <rect width={W} height={H} rx="6" />
            <text x="10" y="20" className="node-id">
              {s.id}
            </text>
            <text x="10" y="40" className="node-kind">
              {s.kind === 'model' ? (s.models.join(', ') || 'model') : 'transform'}
            </text>
            <title>{`${s.id} (${s.kind})${s.models.length ? `: ${s.models.join(', ')}` : ''}`}</title>
          </g>
        );
      })}
    </svg>
  );
}

export function Workflows() {
  const { data, error } = usePoll(() => api<{ items: WorkflowSummary[] }>('/v1/workflows'), [], 0);
  return (
    <section>
      <h2>Workflows</h2>
      <ErrorNote error={error} />
      {data?.items.map((w) => (
        <article key={`${w.id}@${w.version}`} className="workflow" data-testid="workflow">
          <h3>
            {w.id} <small>v{w.version}</small>
          </h3>
          <p>{w.description}</p>
          <p className="hint">labels: {w.labels.join(', ')}</p>
          <StepGraph steps={w.steps} />
        </article>
      ))}
    </section>
  );
}
