import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * - `job_costs`: the job's cost ledger, one row per model call (every try, fallback, step, regeneration);
 * - `jobs.finished_at/_as`: when and how the job finished for its client (delivered, delivery_failed,
 *   failed, rejected, cancelled), set once: usage, latency and SLO metrics read it;
 * - `jobs.key_id` (the API key that submitted it), `jobs.ended_at` (its model work is over),
 *   `jobs.expected_cost_usd` (what the stages said it cost), `jobs.settled_at` (its reservations settled);
 * - `budgets`, their counters per period, and each job's reservation against each budget.
 * Money is numeric(24, 12): exact to the pico-dollar the model layer computes in.
 */
export class CostsAndBudgets1768000000000 implements MigrationInterface {
  name = 'CostsAndBudgets1768000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_costs (
        event_id           text NOT NULL,
        idx                int NOT NULL,
        job_id             uuid NOT NULL,
        stage              text NOT NULL,
        step_id            text,
        step_run           int,
        generation_attempt int,
        model              text NOT NULL,
        try                int NOT NULL,
        outcome            text NOT NULL,
        error_kind         text,
        input_tokens       int NOT NULL DEFAULT 0,
        output_tokens      int NOT NULL DEFAULT 0,
        cost_usd           numeric(24, 12) NOT NULL,
        latency_ms         real NOT NULL DEFAULT 0,
        recorded_at        timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (event_id, idx)
      )`);
    await q.query(`CREATE INDEX job_costs_job ON job_costs (job_id)`);
    // The job's cost is now the ledger's exact sum (settlement compares it with the stages' totals).
    await q.query(`ALTER TABLE jobs ALTER COLUMN cost_usd TYPE numeric(24, 12)`);
    await q.query(`ALTER TABLE jobs ADD COLUMN key_id text, ADD COLUMN ended_at timestamptz,
                   ADD COLUMN expected_cost_usd numeric(24, 12), ADD COLUMN settled_at timestamptz,
                   ADD COLUMN finished_at timestamptz, ADD COLUMN finished_as text`);

    await q.query(`
      CREATE TABLE budgets (
        id                 uuid PRIMARY KEY,
        tenant_id          text NOT NULL,
        name               text NOT NULL,
        workflow_id        text,
        key_id             text,
        period             text NOT NULL CHECK (period IN ('day', 'month', 'none')),
        limit_usd          numeric(24, 12) NOT NULL CHECK (limit_usd >= 0),
        thresholds         jsonb NOT NULL DEFAULT '[]',
        alert_webhook_url  text,
        source             text NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'config')),
        created_at         timestamptz NOT NULL DEFAULT now(),
        updated_at         timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT budgets_name UNIQUE (tenant_id, name)
      )`);
    await q.query(`
      CREATE TABLE budget_periods (
        budget_id          uuid NOT NULL REFERENCES budgets (id) ON DELETE CASCADE,
        period_start       timestamptz NOT NULL,
        spent_usd          numeric(24, 12) NOT NULL DEFAULT 0,
        reserved_usd       numeric(24, 12) NOT NULL DEFAULT 0,
        thresholds_crossed jsonb NOT NULL DEFAULT '[]',
        PRIMARY KEY (budget_id, period_start)
      )`);
    await q.query(`
      CREATE TABLE budget_reservations (
        job_id             uuid NOT NULL,
        budget_id          uuid NOT NULL REFERENCES budgets (id) ON DELETE CASCADE,
        period_start       timestamptz NOT NULL,
        amount_usd         numeric(24, 12) NOT NULL,
        consumed_usd       numeric(24, 12) NOT NULL DEFAULT 0,
        released_at        timestamptz,
        PRIMARY KEY (job_id, budget_id)
      )`);
    await q.query(`CREATE INDEX budget_reservations_open ON budget_reservations (budget_id) WHERE released_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE budget_reservations`);
    await q.query(`DROP TABLE budget_periods`);
    await q.query(`DROP TABLE budgets`);
    await q.query(`ALTER TABLE jobs DROP COLUMN key_id, DROP COLUMN ended_at, DROP COLUMN expected_cost_usd, DROP COLUMN settled_at,
                   DROP COLUMN finished_at, DROP COLUMN finished_as`);
    await q.query(`ALTER TABLE jobs ALTER COLUMN cost_usd TYPE numeric(14, 8)`);
    await q.query(`DROP TABLE job_costs`);
  }
}
