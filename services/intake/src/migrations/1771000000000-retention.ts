import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Payload retention: when a job's payloads are due for erasure (from its workflow's or tenant's
 * retention at creation) and when they were erased (by the sweep or `DELETE /v1/jobs/:id/data`).
 */
export class Retention1771000000000 implements MigrationInterface {
  name = 'Retention1771000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs ADD COLUMN retain_until timestamptz, ADD COLUMN data_erased_at timestamptz`);
    await q.query(`CREATE INDEX jobs_retention_due ON jobs (retain_until) WHERE retain_until IS NOT NULL AND data_erased_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX jobs_retention_due`);
    await q.query(`ALTER TABLE jobs DROP COLUMN retain_until, DROP COLUMN data_erased_at`);
  }
}
