import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An index of every stage's dead letters (consumed from `troupe.dlq.<stage>`), so an operator can
 * list and filter them without reading topics, and replay them; the record itself is kept whole
 * (value and headers) because replay republishes it byte for byte.
 */
export class DeadLetters1764000000002 implements MigrationInterface {
  name = 'DeadLetters1764000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE dead_letters (
        id                  text PRIMARY KEY,
        stage               text NOT NULL,
        original_topic      text NOT NULL,
        code                text NOT NULL,
        reason              text NOT NULL,
        attempts            int,
        consumer            text,
        job_id              text,
        tenant_id           text,
        event_id            text,
        event_type          text,
        key                 text,
        headers             jsonb NOT NULL,
        value               bytea NOT NULL,
        dead_lettered_at    timestamptz NOT NULL,
        replay_count        int NOT NULL DEFAULT 0,
        last_replayed_at    timestamptz,
        last_replayed_by    text
      )`);
    await q.query(`CREATE INDEX dead_letters_newest ON dead_letters (dead_lettered_at DESC, id DESC)`);
    await q.query(`CREATE INDEX dead_letters_stage ON dead_letters (stage, dead_lettered_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE dead_letters`);
  }
}
