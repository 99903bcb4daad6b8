import type { MigrationInterface, QueryRunner } from 'typeorm';

/** What the classifier decided for each job, for audit and later quality scoring. */
export class Classifications1763800000001 implements MigrationInterface {
  name = 'Classifications1763800000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE classifications (
        job_id      uuid PRIMARY KEY,
        tenant_id   text NOT NULL,
        workflow_id text NOT NULL,
        label       text NOT NULL,
        confidence  real NOT NULL,
        language    text NOT NULL,
        sentiment   text NOT NULL,
        model       text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE classifications`);
  }
}
