import { Injectable } from '@nestjs/common';
import { appendToOutbox, type OutboxRecord } from '@troupe/messaging';
import { DataSource, type EntityManager } from 'typeorm';
import { JobEventEntity } from './job-event.entity';
import { JobEntity } from './job.entity';

export interface NewJob {
  id: string;
  tenantId: string;
  workflowId: string;
  workflowVersion: number;
  input: { text: string };
  webhookUrl: string | null;
  metadata: Record<string, string>;
  idempotencyKey: string | null;
  requestHash: string | null;
}

export interface TimelineRow {
  eventId: string;
  type: string;
  source: string;
  time: string;
  summary: string;
}

@Injectable()
export class JobsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Inserts the job, its first timeline entry and its outbox event in one transaction. With an
   * idempotency key already used by the tenant, inserts nothing and returns the existing job.
   */
  async create(
    job: NewJob,
    requested: OutboxRecord,
    timeline: TimelineRow,
    inTransaction?: EntityManager,
  ): Promise<{ job: JobEntity; created: boolean }> {
    const write = async (manager: EntityManager) => {
      const inserted: { id: string }[] = await manager.query(
        `INSERT INTO jobs (id, tenant_id, workflow_id, workflow_version, status, status_rank, input, webhook_url,
                           metadata, idempotency_key, request_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'requested', 0, $5, $6, $7, $8, $9, $10, $10)
         ON CONFLICT ON CONSTRAINT jobs_idempotency DO NOTHING
         RETURNING id`,
        [
          job.id,
          job.tenantId,
          job.workflowId,
          job.workflowVersion,
          JSON.stringify(job.input),
          job.webhookUrl,
          JSON.stringify(job.metadata),
          job.idempotencyKey,
          job.requestHash,
          // Millisecond precision, like the list cursor that carries it.
          new Date(),
        ],
      );
      if (inserted.length === 0) {
        const existing = await manager.findOneByOrFail(JobEntity, {
          tenantId: job.tenantId,
          idempotencyKey: job.idempotencyKey!,
        });
        return { job: existing, created: false };
      }
      await this.appendTimeline(manager, job.id, timeline);
      await appendToOutbox(manager, [requested]);
      return { job: await manager.findOneByOrFail(JobEntity, { id: job.id }), created: true };
    };
    return inTransaction ? write(inTransaction) : this.dataSource.transaction(write);
  }

  /**
   * Records a cancel request and its event in one transaction, once: returns false (writing
   * nothing) when the job was already asked to cancel or has finished meanwhile.
   */
  async requestCancel(
    tenantId: string,
    id: string,
    requestedBy: string,
    event: (requestedAt: Date) => OutboxRecord,
    finished: readonly string[],
  ): Promise<JobEntity | undefined> {
    return this.dataSource.transaction(async (manager) => {
      const [rows]: [{ id: string; cancel_requested_at: Date }[], number] = await manager.query(
        `UPDATE jobs SET cancel_requested_at = now(), cancel_requested_by = $3, updated_at = now()
          WHERE id = $1 AND tenant_id = $2 AND cancel_requested_at IS NULL AND NOT (status = ANY($4::text[]))
          RETURNING id, cancel_requested_at`,
        [id, tenantId, requestedBy, finished],
      );
      if (rows.length === 0) return undefined;
      await appendToOutbox(manager, [event(new Date(rows[0].cancel_requested_at))]);
      return manager.findOneByOrFail(JobEntity, { id });
    });
  }

  /** Writes events to the outbox on their own (no state change of the job here: the read model follows). */
  async emit(records: OutboxRecord[]): Promise<void> {
    await this.dataSource.transaction((manager) => appendToOutbox(manager, records));
  }

  async findForTenant(tenantId: string, id: string): Promise<JobEntity | null> {
    return this.dataSource.manager.findOneBy(JobEntity, { id, tenantId });
  }

  async timeline(jobId: string): Promise<JobEventEntity[]> {
    return this.dataSource.manager.find(JobEventEntity, { where: { jobId }, order: { time: 'ASC', seq: 'ASC' } });
  }

  /** Newest first, keyset-paginated on (created_at, id). */
  async list(
    tenantId: string,
    options: { limit: number; after?: { createdAt: string; id: string }; status?: string },
  ): Promise<JobEntity[]> {
    const query = this.dataSource.manager
      .createQueryBuilder(JobEntity, 'job')
      .where('job.tenant_id = :tenantId', { tenantId })
      .orderBy('job.created_at', 'DESC')
      .addOrderBy('job.id', 'DESC')
      .limit(options.limit);
    if (options.status) query.andWhere('job.status = :status', { status: options.status });
    if (options.after) {
      query.andWhere('(job.created_at, job.id) < (:createdAt::timestamptz, :id::uuid)', options.after);
    }
    return query.getMany();
  }

  private async appendTimeline(manager: EntityManager, jobId: string, row: TimelineRow): Promise<void> {
    await manager.query(
      `INSERT INTO job_events (event_id, job_id, type, source, time, summary) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (event_id) DO NOTHING`,
      [row.eventId, jobId, row.type, row.source, row.time, row.summary],
    );
  }
}
