import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The job read model: one row per job, and its timeline of events. */
export class Jobs1763800000001 implements MigrationInterface {
  name = 'Jobs1763800000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE jobs (
        id               uuid PRIMARY KEY,
        tenant_id        text NOT NULL,
        workflow_id      text NOT NULL,
        workflow_version int NOT NULL,
        status           text NOT NULL,
        status_rank      int NOT NULL DEFAULT 0,
        outcome          text,
        input            jsonb NOT NULL,
        webhook_url      text,
        metadata         jsonb NOT NULL DEFAULT '{}',
        result           jsonb,
        errors           jsonb,
        cost_usd         numeric(14, 8),
        idempotency_key  text,
        request_hash     text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT jobs_idempotency UNIQUE (tenant_id, idempotency_key)
      )`);
    await q.query(`CREATE INDEX jobs_tenant_created ON jobs (tenant_id, created_at DESC, id DESC)`);
    await q.query(`
      CREATE TABLE job_events (
        seq        bigserial PRIMARY KEY,
        event_id   text NOT NULL UNIQUE,
        job_id     uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        type       text NOT NULL,
        source     text NOT NULL,
        time       timestamptz NOT NULL,
        summary    text NOT NULL
      )`);
    await q.query(`CREATE INDEX job_events_job ON job_events (job_id, time, seq)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE job_events`);
    await q.query(`DROP TABLE jobs`);
  }
}
