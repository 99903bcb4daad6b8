import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdent } from './data-source';

/** The NOTIFY channel the outbox relay of `schema` listened on before 1765200000000 (below). */
export function outboxChannel(schema: string): string {
  return `troupe_outbox_${schema}`;
}

/**
 * Outbox and inbox tables in a service's schema. Every service includes this migration first.
 *
 * - outbox: events written in the same transaction as the state change that caused them; the relay
 *   publishes unsent rows in `seq` order and marks them sent. (A statement-level trigger NOTIFYed the
 *   relay at commit, until `outboxWithoutNotifyMigration` removed it.)
 * - inbox: one row per (consumer, event id) processed, written in the handler's transaction, so a
 *   redelivered event is recognised and skipped.
 */
export function messagingTablesMigration(schema: string): new () => MigrationInterface {
  const s = quoteIdent(schema);
  const channel = outboxChannel(schema);
  return class MessagingTables1763800000000 implements MigrationInterface {
    name = 'MessagingTables1763800000000';

    async up(q: QueryRunner): Promise<void> {
      await q.query(`
        CREATE TABLE ${s}.outbox (
          seq         bigserial PRIMARY KEY,
          id          uuid NOT NULL UNIQUE,
          topic       text NOT NULL,
          key         text,
          headers     jsonb NOT NULL,
          value       bytea NOT NULL,
          created_at  timestamptz NOT NULL DEFAULT now(),
          sent_at     timestamptz
        )`);
      await q.query(`CREATE INDEX outbox_unsent ON ${s}.outbox (seq) WHERE sent_at IS NULL`);
      await q.query(`CREATE INDEX outbox_sent_at ON ${s}.outbox (sent_at) WHERE sent_at IS NOT NULL`);
      await q.query(`
        CREATE FUNCTION ${s}.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('${channel}', ''); RETURN NULL; END $$`);
      await q.query(`
        CREATE TRIGGER outbox_notify AFTER INSERT ON ${s}.outbox
        FOR EACH STATEMENT EXECUTE FUNCTION ${s}.outbox_notify()`);
      await q.query(`
        CREATE TABLE ${s}.inbox (
          consumer      text NOT NULL,
          event_id      text NOT NULL,
          topic         text NOT NULL,
          partition     int NOT NULL,
          "offset"      bigint NOT NULL,
          processed_at  timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (consumer, event_id)
        )`);
      await q.query(`CREATE INDEX inbox_processed_at ON ${s}.inbox (processed_at)`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`DROP TABLE ${s}.inbox`);
      await q.query(`DROP TRIGGER outbox_notify ON ${s}.outbox`);
      await q.query(`DROP FUNCTION ${s}.outbox_notify()`);
      await q.query(`DROP TABLE ${s}.outbox`);
    }
  };
}

/**
 * `cancelled_jobs`: the jobs this service has seen a `job.cancel-requested` for. The inbox transport
 * drops their later events at the chunk boundary (services that opt in), so a cancelled job does no
 * more work in any stage.
 */
export function messagingCancellationsMigration(schema: string): new () => MigrationInterface {
  const s = quoteIdent(schema);
  return class MessagingCancellations1765000000000 implements MigrationInterface {
    name = 'MessagingCancellations1765000000000';

    async up(q: QueryRunner): Promise<void> {
      await q.query(`
        CREATE TABLE ${s}.cancelled_jobs (
          job_id        uuid PRIMARY KEY,
          cancelled_at  timestamptz NOT NULL DEFAULT now()
        )`);
      await q.query(`CREATE INDEX cancelled_jobs_cancelled_at ON ${s}.cancelled_jobs (cancelled_at)`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`DROP TABLE ${s}.cancelled_jobs`);
    }
  };
}

/**
 * Drops the outbox's NOTIFY trigger: the relay is now woken in its own process right after a commit
 * that wrote outbox rows (`afterCommit`), with polling as the fallback. A transaction that NOTIFYs
 * holds a cluster-wide lock from its pre-commit to the end of its commit (WAL flush included), so
 * with a NOTIFY in every business transaction all of them committed one at a time
 * (docs/adr/0009-in-process-wake-ups.md).
 */
export function outboxWithoutNotifyMigration(schema: string): new () => MigrationInterface {
  const s = quoteIdent(schema);
  const channel = outboxChannel(schema);
  return class OutboxWithoutNotify1765200000000 implements MigrationInterface {
    name = 'OutboxWithoutNotify1765200000000';

    async up(q: QueryRunner): Promise<void> {
      await q.query(`DROP TRIGGER IF EXISTS outbox_notify ON ${s}.outbox`);
      await q.query(`DROP FUNCTION IF EXISTS ${s}.outbox_notify()`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`
        CREATE FUNCTION ${s}.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('${channel}', ''); RETURN NULL; END $$`);
      await q.query(`
        CREATE TRIGGER outbox_notify AFTER INSERT ON ${s}.outbox
        FOR EACH STATEMENT EXECUTE FUNCTION ${s}.outbox_notify()`);
    }
  };
}

/** Every migration of the shared messaging tables (outbox, inbox, cancelled jobs), in order: services list them first. */
export function messagingMigrations(schema: string): (new () => MigrationInterface)[] {
  return [messagingTablesMigration(schema), messagingCancellationsMigration(schema), outboxWithoutNotifyMigration(schema)];
}
