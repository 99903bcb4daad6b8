import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Durable webhook deliveries: one row per job and target, with its retry schedule; every attempt
 * recorded. The schedule lives here, not in memory, so it survives restarts.
 */
export class Deliveries1763800000001 implements MigrationInterface {
  name = 'Deliveries1763800000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE deliveries (
        id               text PRIMARY KEY,
        job_id           uuid NOT NULL,
        tenant_id        text NOT NULL,
        url              text NOT NULL,
        outcome          text NOT NULL,
        payload          jsonb NOT NULL,
        trace_headers    jsonb NOT NULL DEFAULT '{}',
        status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts         int NOT NULL DEFAULT 0,
        next_attempt_at  timestamptz NOT NULL DEFAULT now(),
        locked_until     timestamptz,
        last_error       text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX deliveries_job ON deliveries (job_id)`);
    await q.query(`
      CREATE TABLE delivery_attempts (
        id           bigserial PRIMARY KEY,
        delivery_id  text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
        attempt      int NOT NULL,
        status_code  int,
        error        text,
        latency_ms   real NOT NULL,
        attempted_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, attempt)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE delivery_attempts`);
    await q.query(`DROP TABLE deliveries`);
  }
}
