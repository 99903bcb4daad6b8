import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Replays: a replay re-runs past jobs as shadow jobs (jobs rows with `replay_id` and `shadow_of`),
 * which its report compares with their originals. `would_review`: what would have held a shadow's output.
 */
export class Replays1773000000000 implements MigrationInterface {
  name = 'Replays1773000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE replays (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        workflow_id text NOT NULL,
        target jsonb NOT NULL,
        selection jsonb NOT NULL,
        charge_budget boolean NOT NULL,
        "references" jsonb NOT NULL DEFAULT '{}',
        skipped jsonb NOT NULL DEFAULT '[]',
        job_count int NOT NULL,
        key_id text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX replays_by_tenant ON replays (tenant_id, created_at DESC, id DESC)`);
    await q.query(`ALTER TABLE jobs ADD COLUMN replay_id uuid REFERENCES replays (id), ADD COLUMN shadow_of uuid, ADD COLUMN would_review jsonb`);
    await q.query(`CREATE INDEX jobs_by_replay ON jobs (replay_id) WHERE replay_id IS NOT NULL`);
    await q.query(`CREATE INDEX jobs_shadows_of ON jobs (shadow_of) WHERE shadow_of IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX jobs_shadows_of`);
    await q.query(`DROP INDEX jobs_by_replay`);
    await q.query(`ALTER TABLE jobs DROP COLUMN replay_id, DROP COLUMN shadow_of, DROP COLUMN would_review`);
    await q.query(`DROP TABLE replays`);
  }
}
