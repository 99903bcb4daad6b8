import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log: who (tenant, key, role) did what to which target, when, and how it ended.
 * Append-only: a trigger refuses every UPDATE, and every DELETE except the retention sweep's (which
 * marks its transaction with `troupe.audit_retention`).
 */
export class AuditLog1767000000004 implements MigrationInterface {
  name = 'AuditLog1767000000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_log (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at           timestamptz NOT NULL DEFAULT clock_timestamp(),
        tenant_id    text NOT NULL,
        key_id       text NOT NULL,
        role         text NOT NULL,
        action       text NOT NULL,
        target_type  text NOT NULL,
        target_id    text,
        outcome      text NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
        status       int,
        error_code   text,
        details      jsonb NOT NULL DEFAULT '{}'
      )`);
    await q.query(`CREATE INDEX audit_log_tenant ON audit_log (tenant_id, at DESC, id DESC)`);
    await q.query(`CREATE INDEX audit_log_at ON audit_log (at)`);
    await q.query(`
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND current_setting('troupe.audit_retention', true) = 'on' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log`);
    await q.query(`DROP FUNCTION audit_log_append_only`);
  }
}
