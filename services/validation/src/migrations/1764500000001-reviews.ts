import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Results held for a person. `due_at` is the review's deadline as a row, not a timer, so it survives
 * restarts and replicas share the polling (see docs/adr/0006-validation-repair-and-review.md).
 */
export class Reviews1764500000001 implements MigrationInterface {
  name = 'Reviews1764500000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE reviews (
        id           uuid PRIMARY KEY,
        job_id       uuid NOT NULL UNIQUE,
        tenant_id    text NOT NULL,
        workflow_id  text NOT NULL,
        status       text NOT NULL CHECK (status IN ('pending', 'escalated', 'approved', 'edited', 'rejected', 'expired')),
        on_deadline  text NOT NULL CHECK (on_deadline IN ('reject', 'escalate')),
        due_at       timestamptz NOT NULL,
        -- after an escalation, the next due_at; NULL: an escalated review waits for an admin
        escalation_seconds int,
        job          jsonb NOT NULL,
        trace_headers jsonb NOT NULL DEFAULT '{}',
        decided_by   text,
        decided_at   timestamptz,
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX reviews_due ON reviews (due_at) WHERE status IN ('pending', 'escalated')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE reviews`);
  }
}
