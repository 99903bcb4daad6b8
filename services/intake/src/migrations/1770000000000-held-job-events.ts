import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `held_job_events`: events the read model received before the event they follow (a webhook's
 * `job.delivered` before the `job.validated` it delivers: they come from different topics). They
 * are applied once that event is in, so status, outcome and timeline never disagree.
 */
export class HeldJobEvents1770000000000 implements MigrationInterface {
  name = 'HeldJobEvents1770000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE held_job_events (
        event_id   text PRIMARY KEY,
        job_id     uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        type       text NOT NULL,
        source     text NOT NULL,
        time       text NOT NULL,
        projection jsonb NOT NULL,
        held_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX held_job_events_job ON held_job_events (job_id)`);
    await q.query(`CREATE INDEX held_job_events_held_at ON held_job_events (held_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE held_job_events`);
  }
}
