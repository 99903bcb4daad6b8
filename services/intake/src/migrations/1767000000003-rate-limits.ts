import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rate-limit state shared by every intake replica: one row per key or tenant holding its GCRA
 * "theoretical arrival time" (epoch seconds). Unlogged: a crash forgets the limits' state (every
 * bucket full again), which costs nothing that matters and saves a WAL write per request.
 */
export class RateLimits1767000000003 implements MigrationInterface {
  name = 'RateLimits1767000000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE UNLOGGED TABLE rate_limits (subject text PRIMARY KEY, tat double precision NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE rate_limits`);
  }
}
