import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deliveries of another kind than a job's outcome: budget alerts. They share the durable schedule,
 * signing and retries, but emit no job events and are never requeued by a job's redelivery.
 */
export class DeliveryKinds1772000000000 implements MigrationInterface {
  name = 'DeliveryKinds1772000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deliveries ADD COLUMN kind text NOT NULL DEFAULT 'job' CHECK (kind IN ('job', 'budget-alert'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deliveries DROP COLUMN kind`);
  }
}
