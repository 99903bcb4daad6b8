import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `job_outcomes`: the first thing delivery learnt of each job's end: an outcome (validated,
 * rejected, failed) or its cancellation. Both paths claim the row in their transaction, so when a
 * cancel and an outcome race, exactly one wins: either the result is delivered, or the job is
 * cancelled and nothing of its result ever is.
 */
export class JobOutcomes1765000000001 implements MigrationInterface {
  name = 'JobOutcomes1765000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_outcomes (
        job_id      uuid PRIMARY KEY,
        outcome     text NOT NULL CHECK (outcome IN ('validated', 'rejected', 'failed', 'cancelled')),
        decided_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX job_outcomes_decided_at ON job_outcomes (decided_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE job_outcomes`);
  }
}
