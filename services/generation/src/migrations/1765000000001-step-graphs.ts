import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The durable state of every job's step graph:
 * - `workflow_snapshots`: each distinct pinned workflow snapshot once, by digest (jobs are many,
 *   workflow versions few);
 * - `job_runs`: one row per job: the job's context (as it arrived with job.classified, its
 *   workflow by digest), its
 *   generation attempt and repair state, its status, and the cost of every step run so far;
 * - `job_steps`: one row per job and step, the step's latest run: `pending` (scheduled and leased
 *   to the executor of one generation process until `lease_until`), `completed` with its output,
 *   `skipped`, `failed`, `cancelled`, or `stale` (to run again in the repair loop). A finished step
 *   is never run again unless the repair loop asks; a pending step whose lease ran out (its process
 *   died) is claimed by another executor.
 * - `generations.step_id`: which step each model attempt belonged to.
 */
export class StepGraphs1765000000001 implements MigrationInterface {
  name = 'StepGraphs1765000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE workflow_snapshots (digest text PRIMARY KEY, snapshot text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`
      CREATE TABLE job_runs (
        job_id              uuid PRIMARY KEY,
        tenant_id           text NOT NULL,
        workflow_id         text NOT NULL,
        status              text NOT NULL CHECK (status IN ('running', 'generated', 'failed', 'cancelled')),
        attempt             int NOT NULL DEFAULT 1,
        context             text NOT NULL,
        workflow_digest     text NOT NULL REFERENCES workflow_snapshots (digest),
        repair              jsonb,
        previous_errors     jsonb,
        trace_headers       jsonb NOT NULL DEFAULT '{}',
        causation_id        text,
        cost_usd            numeric(14, 8) NOT NULL DEFAULT 0,
        attempt_started_at  timestamptz NOT NULL DEFAULT now(),
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX job_runs_updated_at ON job_runs (updated_at)`);
    await q.query(`
      CREATE TABLE job_steps (
        job_id       uuid NOT NULL REFERENCES job_runs (job_id) ON DELETE CASCADE,
        step_id      text NOT NULL,
        run          int NOT NULL DEFAULT 1,
        status       text NOT NULL CHECK (status IN ('pending', 'completed', 'skipped', 'failed', 'cancelled', 'stale')),
        attempt      int NOT NULL,
        output       jsonb,
        result       jsonb,
        lease_owner  uuid,
        lease_until  timestamptz,
        updated_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (job_id, step_id)
      )`);
    await q.query(`CREATE INDEX job_steps_lease ON job_steps (lease_until) WHERE status = 'pending'`);
    await q.query(`ALTER TABLE generations ADD COLUMN step_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE generations DROP COLUMN step_id`);
    await q.query(`DROP TABLE job_steps`);
    await q.query(`DROP TABLE job_runs`);
    await q.query(`DROP TABLE workflow_snapshots`);
  }
}
