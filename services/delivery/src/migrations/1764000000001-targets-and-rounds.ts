import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * - `webhook_targets`: a target that answered 410 Gone is disabled for the tenant; later jobs to it
 *   are not attempted (a redelivery request re-enables it).
 * - `job_targets`: where each job's outcome goes, learnt from job.requested, so that a job that
 *   fails in any stage (job.failed carries no target) still gets its failure notification.
 * - delivery rounds: a redelivery starts a new round of attempts with its own count and horizon.
 */
export class TargetsAndRounds1764000000001 implements MigrationInterface {
  name = 'TargetsAndRounds1764000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_targets (
        tenant_id        text NOT NULL,
        url              text NOT NULL,
        disabled_at      timestamptz,
        disabled_reason  text,
        updated_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, url)
      )`);
    await q.query(`
      CREATE TABLE job_targets (
        job_id            uuid PRIMARY KEY,
        tenant_id         text NOT NULL,
        webhook_url       text,
        result_topic      text,
        workflow_id       text NOT NULL,
        workflow_version  int NOT NULL,
        metadata          jsonb NOT NULL DEFAULT '{}',
        created_at        timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`ALTER TABLE deliveries ADD COLUMN round_base int NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE deliveries ADD COLUMN round_started_at timestamptz NOT NULL DEFAULT now()`);
    await q.query(`ALTER TABLE deliveries ADD COLUMN last_code text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE deliveries DROP COLUMN last_code, DROP COLUMN round_started_at, DROP COLUMN round_base`,
    );
    await q.query(`DROP TABLE job_targets`);
    await q.query(`DROP TABLE webhook_targets`);
  }
}
