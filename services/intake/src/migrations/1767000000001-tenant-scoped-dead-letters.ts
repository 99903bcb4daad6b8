import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A tenant's admin lists its own tenant's dead letters: the listing's index leads with the tenant. */
export class TenantScopedDeadLetters1767000000001 implements MigrationInterface {
  name = 'TenantScopedDeadLetters1767000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX dead_letters_tenant ON dead_letters (tenant_id, dead_lettered_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX dead_letters_tenant`);
  }
}
