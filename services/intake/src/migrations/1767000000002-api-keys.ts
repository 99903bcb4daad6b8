import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys managed through the admin API, beside the configured ones: only the SHA-256 of a key is
 * kept (keys are 256 random bits: a fast hash is enough, no salt needed). Every request looks its key
 * up here, so a revocation holds at once on every intake replica.
 */
export class ApiKeys1767000000002 implements MigrationInterface {
  name = 'ApiKeys1767000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_keys (
        id            uuid PRIMARY KEY,
        tenant_id     text NOT NULL,
        name          text NOT NULL,
        role          text NOT NULL,
        key_hash      text NOT NULL UNIQUE,
        key_prefix    text NOT NULL,
        rate_limit    jsonb NOT NULL DEFAULT '{}',
        created_at    timestamptz NOT NULL DEFAULT now(),
        created_by    text NOT NULL,
        expires_at    timestamptz,
        revoked_at    timestamptz,
        revoked_by    text,
        last_used_at  timestamptz
      )`);
    await q.query(`CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_keys`);
  }
}
