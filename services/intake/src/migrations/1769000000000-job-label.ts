import type { MigrationInterface, QueryRunner } from 'typeorm';

/** `jobs.label`: the classification label, so the console and the API can filter jobs by it. */
export class JobLabel1769000000000 implements MigrationInterface {
  name = 'JobLabel1769000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs ADD COLUMN label text`);
    await q.query(`CREATE INDEX jobs_tenant_label_created ON jobs (tenant_id, label, created_at DESC) WHERE label IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX jobs_tenant_label_created`);
    await q.query(`ALTER TABLE jobs DROP COLUMN label`);
  }
}
