import { Injectable } from '@nestjs/common';
import { appendToOutbox, BatchInsert, type MessageContext, type OutboxRecord } from '@troupe/messaging';
import { DataSource } from 'typeorm';

/** A platform operator's scope: every tenant's letters and those naming none. */
export const ALL_TENANTS = Symbol('all tenants');
export type TenantScope = string | typeof ALL_TENANTS;

export interface DeadLetterRow {
  id: string;
  stage: string;
  originalTopic: string;
  code: string;
  reason: string;
  attempts: number | null;
  consumer: string | null;
  jobId: string | null;
  tenantId: string | null;
  eventId: string | null;
  eventType: string | null;
  key: string | null;
  headers: Record<string, string>;
  value: Buffer;
  deadLetteredAt: string;
  replayCount: number;
  lastReplayedAt: string | null;
}

const COLUMNS =
  'id, stage, original_topic, code, reason, attempts, consumer, job_id, tenant_id, event_id, event_type, key, headers, value, dead_lettered_at, replay_count, last_replayed_at';

interface Raw {
  id: string;
  stage: string;
  original_topic: string;
  code: string;
  reason: string;
  attempts: number | null;
  consumer: string | null;
  job_id: string | null;
  tenant_id: string | null;
  event_id: string | null;
  event_type: string | null;
  key: string | null;
  headers: Record<string, string>;
  value: Buffer;
  dead_lettered_at: Date;
  replay_count: number;
  last_replayed_at: Date | null;
}

const toRow = (r: Raw): DeadLetterRow => ({
  id: r.id,
  stage: r.stage,
  originalTopic: r.original_topic,
  code: r.code,
  reason: r.reason,
  attempts: r.attempts,
  consumer: r.consumer,
  jobId: r.job_id,
  tenantId: r.tenant_id,
  eventId: r.event_id,
  eventType: r.event_type,
  key: r.key,
  headers: r.headers,
  value: r.value,
  deadLetteredAt: r.dead_lettered_at.toISOString(),
  replayCount: r.replay_count,
  lastReplayedAt: r.last_replayed_at?.toISOString() ?? null,
});

@Injectable()
export class DeadLettersRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Indexes a dead letter in the consumer's chunk transaction; a redelivered record adds nothing. */
  index(ctx: MessageContext, r: Omit<DeadLetterRow, 'replayCount' | 'lastReplayedAt'>): void {
    ctx
      .deferred(
        'dead-letters',
        () =>
          new BatchInsert(
            'dead_letters',
            [
              'id',
              'stage',
              'original_topic',
              'code',
              'reason',
              'attempts',
              'consumer',
              'job_id',
              'tenant_id',
              'event_id',
              'event_type',
              'key',
              'headers',
              'value',
              'dead_lettered_at',
            ],
            'ON CONFLICT (id) DO NOTHING',
          ),
      )
      .add([
        r.id,
        r.stage,
        r.originalTopic,
        r.code,
        r.reason,
        r.attempts,
        r.consumer,
        r.jobId,
        r.tenantId,
        r.eventId,
        r.eventType,
        r.key,
        JSON.stringify(r.headers),
        r.value,
        r.deadLetteredAt,
      ]);
  }

  /** `scope` is the caller's tenant, or `all` for a platform operator (letters without a tenant too). */
  async find(scope: TenantScope, id: string): Promise<DeadLetterRow | undefined> {
    const rows: Raw[] =
      scope === ALL_TENANTS
        ? await this.dataSource.query(`SELECT ${COLUMNS} FROM dead_letters WHERE id = $1`, [id])
        : await this.dataSource.query(`SELECT ${COLUMNS} FROM dead_letters WHERE id = $1 AND tenant_id = $2`, [id, scope]);
    return rows[0] && toRow(rows[0]);
  }

  /** Newest first, keyset-paginated on (dead_lettered_at, id). */
  async list(filter: {
    /** A tenant id, null for letters naming no tenant, or every tenant's. */
    tenant: string | null | typeof ALL_TENANTS;
    stage?: string;
    code?: string;
    pending?: boolean;
    limit: number;
    after?: { t: string; id: string };
  }): Promise<DeadLetterRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: (n: number) => string, value: unknown) => where.push(clause(params.push(value)));
    if (filter.tenant === null) where.push('tenant_id IS NULL');
    else if (filter.tenant !== ALL_TENANTS) add((n) => `tenant_id = $${n}`, filter.tenant);
    if (filter.stage) add((n) => `stage = $${n}`, filter.stage);
    if (filter.code) add((n) => `code = $${n}`, filter.code);
    if (filter.pending !== undefined) where.push(filter.pending ? 'replay_count = 0' : 'replay_count > 0');
    if (filter.after) {
      const t = params.push(filter.after.t);
      const id = params.push(filter.after.id);
      where.push(`(dead_lettered_at, id) < ($${t}::timestamptz, $${id})`);
    }
    const limit = params.push(filter.limit);
    const rows: Raw[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM dead_letters ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY dead_lettered_at DESC, id DESC LIMIT $${limit}`,
      params,
    );
    return rows.map(toRow);
  }

  /** Counts the replay and writes what it republishes, in one transaction. */
  async replay(scope: TenantScope, id: string, by: string, records: OutboxRecord[]): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const [rows]: [{ replay_count: number }[], number] = await manager.query(
        `UPDATE dead_letters SET replay_count = replay_count + 1, last_replayed_at = now(), last_replayed_by = $2
          WHERE id = $1 AND ($3::text IS NULL OR tenant_id = $3) RETURNING replay_count`,
        [id, by, scope === ALL_TENANTS ? null : scope],
      );
      await appendToOutbox(manager, records);
      return rows[0]?.replay_count ?? 0;
    });
  }
}
