import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The review queue (a read model of validation's review events) and a status rank that can sit
 * between two existing ones (`awaiting_review` is 2.5: after generated, before the outcome).
 */
export class Reviews1764500000001 implements MigrationInterface {
  name = 'Reviews1764500000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jobs ALTER COLUMN status_rank TYPE double precision`);
    await q.query(`
      CREATE TABLE reviews (
        id               uuid PRIMARY KEY,
        job_id           uuid NOT NULL UNIQUE,
        tenant_id        text NOT NULL,
        workflow_id      text NOT NULL,
        workflow_version int NOT NULL,
        status           text NOT NULL CHECK (status IN ('pending', 'escalated', 'decided', 'expired')),
        label            text NOT NULL,
        confidence       double precision NOT NULL,
        output           jsonb,
        output_schema    jsonb NOT NULL,
        held_because     jsonb NOT NULL,
        findings         jsonb NOT NULL DEFAULT '[]',
        due_at           timestamptz NOT NULL,
        on_deadline      text NOT NULL,
        decision         jsonb,
        trace_headers    jsonb NOT NULL DEFAULT '{}',
        requested_at     timestamptz NOT NULL,
        updated_at       timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX reviews_queue ON reviews (tenant_id, status, requested_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE reviews`);
    await q.query(`ALTER TABLE jobs ALTER COLUMN status_rank TYPE int USING ceil(status_rank)`);
  }
}
