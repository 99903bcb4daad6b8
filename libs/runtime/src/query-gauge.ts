import { metricsRegistry } from '@troupe/telemetry';
import { Gauge } from 'prom-client';
import type { DataSource } from 'typeorm';

/**
 * A gauge read from the database when Prometheus scrapes, not kept up to date by every write: it
 * costs nothing between scrapes and is exact across replicas and restarts. `sql` returns one row per
 * series, with a `value` column and one column per label. If the database does not answer, the
 * series keep their last values (readiness reports the outage).
 */
export function queryGauge<L extends string>(
  dataSource: DataSource,
  options: { name: string; help: string; labelNames: readonly L[]; sql: string },
): Gauge<L> {
  const existing = metricsRegistry.getSingleMetric(options.name);
  if (existing) metricsRegistry.removeSingleMetric(options.name); // a second app in one process (tests)
  return new Gauge<L>({
    name: options.name,
    help: options.help,
    labelNames: options.labelNames,
    registers: [metricsRegistry],
    async collect() {
      let rows: Record<string, string | number>[];
      try {
        rows = await dataSource.query(options.sql);
      } catch {
        return;
      }
      this.reset();
      for (const row of rows) {
        const labels = Object.fromEntries(options.labelNames.map((l) => [l, String(row[l])])) as Record<L, string>;
        this.set(labels, Number(row.value));
      }
    },
  });
}
