import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per model *attempt* (retries and fallbacks included), so a job's cost is the sum of its
 * rows and a model's error rate can be read from the table.
 */
export class GenerationAttempts1764500000001 implements MigrationInterface {
  name = 'GenerationAttempts1764500000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE generations
        ADD COLUMN generation_attempt int NOT NULL DEFAULT 1,
        ADD COLUMN try int NOT NULL DEFAULT 1,
        ADD COLUMN outcome text NOT NULL DEFAULT 'succeeded',
        ADD COLUMN error_kind text,
        ADD COLUMN strategy text,
        ADD COLUMN chosen boolean NOT NULL DEFAULT true`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE generations
        DROP COLUMN generation_attempt, DROP COLUMN try, DROP COLUMN outcome,
        DROP COLUMN error_kind, DROP COLUMN strategy, DROP COLUMN chosen`);
  }
}
