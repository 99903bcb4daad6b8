import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * - `jobs.steps`: the steps of a job's graph by id, as their events arrive (status, output, model, cost, why);
 * - `jobs.cancel_requested_at/_by`: a cancel was asked for (once; repeats change nothing);
 * - review queue entries can end `cancelled` (their job was).
 */
export class StepsAndCancel1765000000001 implements MigrationInterface {
  name = 'StepsAndCancel1765000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs ADD COLUMN steps jsonb`);
    await q.query(`ALTER TABLE jobs ADD COLUMN cancel_requested_at timestamptz, ADD COLUMN cancel_requested_by text`);
    await q.query(`ALTER TABLE reviews DROP CONSTRAINT reviews_status_check`);
    await q.query(
      `ALTER TABLE reviews ADD CONSTRAINT reviews_status_check CHECK (status IN ('pending', 'escalated', 'decided', 'expired', 'cancelled'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE reviews DROP CONSTRAINT reviews_status_check`);
    await q.query(`ALTER TABLE reviews ADD CONSTRAINT reviews_status_check CHECK (status IN ('pending', 'escalated', 'decided', 'expired'))`);
    await q.query(`ALTER TABLE jobs DROP COLUMN cancel_requested_by, DROP COLUMN cancel_requested_at`);
    await q.query(`ALTER TABLE jobs DROP COLUMN steps`);
  }
}
