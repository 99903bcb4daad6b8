import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A review ends `cancelled` when its job is cancelled while it waits. */
export class CancelledReviews1765000000001 implements MigrationInterface {
  name = 'CancelledReviews1765000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE reviews DROP CONSTRAINT reviews_status_check`);
    await q.query(
      `ALTER TABLE reviews ADD CONSTRAINT reviews_status_check
         CHECK (status IN ('pending', 'escalated', 'approved', 'edited', 'rejected', 'expired', 'cancelled'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE reviews DROP CONSTRAINT reviews_status_check`);
    await q.query(
      `ALTER TABLE reviews ADD CONSTRAINT reviews_status_check CHECK (status IN ('pending', 'escalated', 'approved', 'edited', 'rejected', 'expired'))`,
    );
  }
}
