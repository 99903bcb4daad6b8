import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { useEffect, useRef, useState } from 'react';
import { api, ApiError, query, type Usage } from '../api';
import { ErrorNote, ms, usd } from '../components/common';
import { usePoll } from '../hooks';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

function BarChart({ title, labels, series }: { title: string; labels: string[]; series: { label: string; data: number[]; color: string }[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const chart = new Chart(canvas.current!, {
      type: 'bar',
      data: { labels, datasets: series.map((s) => ({ label: s.label, data: s.data, backgroundColor: s.color })) },
      options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { position: 'bottom' } } },
    });
    return () => chart.destroy();
  }, [JSON.stringify({ labels, series })]);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div style={{ height: 260 }}>
        <canvas ref={canvas} />
      </div>
    </figure>
  );
}

const DAY = 86_400_000;

/** Cost and latency per workflow, model, key or day, from `GET /v1/usage` (where the deployment has it). */
export function UsagePage() {
  const [groupBy, setGroupBy] = useState('workflow');
  const [days, setDays] = useState(7);
  const { data, error } = usePoll(async () => {
    const to = new Date();
    const from = new Date(to.getTime() - days * DAY);
    try {
      return await api<Usage>(`/v1/usage${query({ from: from.toISOString(), to: to.toISOString(), groupBy })}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }, [groupBy, days], 30_000);
  const groups = data?.groups ?? [];
  const labels = groups.map((g) => g.key);
  return (
    <section>
      <h2>Costs &amp; latency</h2>
      <div className="filters">
        <select aria-label="Group by" value={groupBy} onChange={(e) => setGroupBy(e.target.value)}>
          {['workflow', 'model', 'key', 'day'].map((g) => (
            <option key={g}>{g}</option>
          ))}
        </select>
        <select aria-label="Window" value={days} onChange={(e) => setDays(Number(e.target.value))}>
          <option value={1}>last 24 hours</option>
          <option value={7}>last 7 days</option>
          <option value={30}>last 30 days</option>
        </select>
      </div>
      <ErrorNote error={error} />
      {data === null && <p className="empty" data-testid="usage-unavailable">Usage not available: this deployment does not serve <code>/v1/usage</code>.</p>}
      {data && groups.length === 0 && <p className="empty">No jobs in this window.</p>}
      {data && groups.length > 0 && (
        <>
          <div className="charts">
            <BarChart title="Cost (USD)" labels={labels} series={[{ label: 'cost', data: groups.map((g) => g.costUsd), color: '#4c6ef5' }]} />
            <BarChart
              title="Latency (ms)"
              labels={labels}
              series={[
                { label: 'p50', data: groups.map((g) => g.latencyMs.p50), color: '#20c997' },
                { label: 'p95', data: groups.map((g) => g.latencyMs.p95), color: '#fab005' },
              ]}
            />
          </div>
          <table>
            <thead>
              <tr>
                <th>{groupBy}</th>
                <th>Jobs</th>
                <th>Succeeded</th>
                <th>Failed</th>
                <th>Tokens in/out</th>
                <th>Cost</th>
                <th>Cost / success</th>
                <th>p50</th>
                <th>p95</th>
              </tr>
            </thead>
            <tbody>
              {groups.map((g) => (
                <tr key={g.key}>
                  <td>{g.key}</td>
                  <td>{g.jobs}</td>
                  <td>{g.succeeded}</td>
                  <td>{g.failed}</td>
                  <td>
                    {g.tokens.input} / {g.tokens.output}
                  </td>
                  <td>{usd(g.costUsd)}</td>
                  <td>{usd(g.costPerSuccessfulJobUsd)}</td>
                  <td>{ms(g.latencyMs.p50)}</td>
                  <td>{ms(g.latencyMs.p95)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
