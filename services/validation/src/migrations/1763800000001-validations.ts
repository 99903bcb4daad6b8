import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The verdict on each generated output, with the reasons for a rejection. */
export class Validations1763800000001 implements MigrationInterface {
  name = 'Validations1763800000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE validations (
        job_id      uuid PRIMARY KEY,
        tenant_id   text NOT NULL,
        workflow_id text NOT NULL,
        verdict     text NOT NULL CHECK (verdict IN ('validated', 'rejected')),
        reasons     jsonb NOT NULL DEFAULT '[]',
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE validations`);
  }
}
