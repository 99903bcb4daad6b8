import type { MigrationInterface, QueryRunner } from 'typeorm';

/** One row per model call: which model, its usage, cost and latency (cost accounting per job). */
export class Generations1763800000001 implements MigrationInterface {
  name = 'Generations1763800000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE generations (
        id            bigserial PRIMARY KEY,
        job_id        uuid NOT NULL,
        tenant_id     text NOT NULL,
        workflow_id   text NOT NULL,
        route         text NOT NULL,
        model         text NOT NULL,
        input_tokens  int NOT NULL,
        output_tokens int NOT NULL,
        cost_usd      numeric(14, 8) NOT NULL,
        latency_ms    real NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX generations_job ON generations (job_id)`);
    await q.query(`CREATE INDEX generations_tenant_created ON generations (tenant_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE generations`);
  }
}
