import { Injectable } from '@nestjs/common';
import { appendToOutbox, type OutboxRecord } from '@troupe/messaging';
import type { JobCost } from '@troupe/contracts';
import { DataSource, type EntityManager } from 'typeorm';
import { BudgetLedger, type BudgetRefusal } from '../budgets/budget-ledger';
import type { Pico } from '../budgets/money';
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
  /** The API key that submitted it (budgets narrowed to a key, usage by key). */
  keyId: string | null;
  /** The job's cost upper bound to reserve against the budgets that apply; null: reserve nothing (shadow jobs). */
  reserve: Pico | null;
  /** When the job's payloads are to be erased (its workflow's or tenant's retention); null: kept. */
  retainUntil: Date | null;
  /** A shadow job: its replay and the original it re-runs. */
  shadow?: { replayId: string; originalJobId: string };
}

export interface TimelineRow {
  eventId: string;
  type: string;
  source: string;
  time: string;
  summary: string;
}

export interface NewJobWrite {
  job: NewJob;
  /** The job.requested event, built once the reservation is known (it travels with the job). */
  requested: (reservedUsd: Pico | undefined) => OutboxRecord;
  timeline: Omit<TimelineRow, 'eventId' | 'time'>;
}

/** A job written, replayed (its idempotency key was used before), or refused by a budget (nothing written). */
export type CreateResult = { job: JobEntity; created: boolean; refused?: undefined } | { refused: BudgetRefusal; job?: undefined; created: false };

interface QueuedJobWrite extends NewJobWrite {
  resolve: (result: CreateResult) => void;
  reject: (error: unknown) => void;
}

/** Most jobs one create transaction writes: a few statements, whatever the number. */
const MAX_JOBS_PER_TRANSACTION = 500;

@Injectable()
export class JobsRepository {
  private readonly queued: QueuedJobWrite[] = [];
  private writing = false;

  private readonly budgets = new BudgetLedger();

  constructor(private readonly dataSource: DataSource) {}

  /**
   * Inserts the job, its first timeline entry and its outbox event in one transaction. With an
   * idempotency key already used by the tenant, inserts nothing and returns the existing job.
   *
   * Requests that arrive while a create transaction is in flight are written together in the next
   * one (group commit): each caller still returns only after the commit that holds its job, and a
   * request arriving alone is written at once.
   */
  async create(
    job: NewJob,
    requested: NewJobWrite['requested'],
    timeline: NewJobWrite['timeline'],
    inTransaction?: EntityManager,
  ): Promise<CreateResult> {
    if (inTransaction) return (await this.writeJobs(inTransaction, [{ job, requested, timeline }]))[0];
    return new Promise((resolve, reject) => {
      this.queued.push({ job, requested, timeline, resolve, reject });
      void this.writeQueued();
    });
  }

  /** Writes several jobs in the caller's transaction (a replay's shadow jobs, with the replay). */
  createAll(manager: EntityManager, writes: NewJobWrite[]): Promise<CreateResult[]> {
    return this.writeJobs(manager, writes);
  }

  private async writeQueued(): Promise<void> {
    if (this.writing) return; // the write in flight picks these up when it is done
    this.writing = true;
    try {
      while (this.queued.length > 0) {
        const batch = this.queued.splice(0, MAX_JOBS_PER_TRANSACTION);
        try {
          const results = await this.dataSource.transaction((manager) => this.writeJobs(manager, batch));
          batch.forEach((write, i) => write.resolve(results[i]));
        } catch (error) {
          if (batch.length === 1) {
            batch[0].reject(error);
            continue;
          }
          // One bad job must not fail the others: each on its own then.
          await Promise.all(
            batch.map((write) =>
              this.dataSource.transaction((manager) => this.writeJobs(manager, [write])).then(([r]) => write.resolve(r), write.reject),
            ),
          );
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** Jobs, timeline entries and outbox events in one statement each; existing idempotency keys win. */
  private async writeJobs(manager: EntityManager, writes: NewJobWrite[]): Promise<CreateResult[]> {
    const jobs = writes.map((w) => w.job);
    // Millisecond precision, like the list cursor that carries it.
    const now = new Date();
    const inserted: { id: string }[] = await manager.query(
      `INSERT INTO jobs (id, tenant_id, workflow_id, workflow_version, status, status_rank, input, webhook_url,
                         metadata, idempotency_key, request_hash, created_at, updated_at, key_id, retain_until, replay_id, shadow_of)
       SELECT j.id, j.tenant_id, j.workflow_id, j.workflow_version, 'requested', 0, j.input, j.webhook_url,
              j.metadata, j.idempotency_key, j.request_hash, $10, $10, j.key_id, j.retain_until, j.replay_id, j.shadow_of
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::jsonb[], $6::text[], $7::jsonb[], $8::text[], $9::text[], $11::text[], $12::timestamptz[],
                     $13::uuid[], $14::uuid[])
              AS j(id, tenant_id, workflow_id, workflow_version, input, webhook_url, metadata, idempotency_key, request_hash, key_id, retain_until,
                   replay_id, shadow_of)
       ON CONFLICT ON CONSTRAINT jobs_idempotency DO NOTHING
       RETURNING id`,
      [
        jobs.map((j) => j.id),
        jobs.map((j) => j.tenantId),
        jobs.map((j) => j.workflowId),
        jobs.map((j) => j.workflowVersion),
        jobs.map((j) => JSON.stringify(j.input)),
        jobs.map((j) => j.webhookUrl),
        jobs.map((j) => JSON.stringify(j.metadata)),
        jobs.map((j) => j.idempotencyKey),
        jobs.map((j) => j.requestHash),
        now,
        jobs.map((j) => j.keyId),
        jobs.map((j) => j.retainUntil),
        jobs.map((j) => j.shadow?.replayId ?? null),
        jobs.map((j) => j.shadow?.originalJobId ?? null),
      ],
    );
    const created = new Set(inserted.map((r) => r.id));
    // The saga's first step, in the jobs' transaction: reserve each new job's bound, or refuse it.
    const reservations = await this.budgets.reserve(
      manager,
      writes
        .filter((w) => created.has(w.job.id) && w.job.reserve !== null)
        .map((w) => ({ jobId: w.job.id, tenantId: w.job.tenantId, workflowId: w.job.workflowId, keyId: w.job.keyId, amount: w.job.reserve! })),
    );
    const refused = new Map<string, BudgetRefusal>();
    for (const [jobId, r] of reservations) if ('refused' in r) refused.set(jobId, r.refused);
    if (refused.size > 0) await manager.query(`DELETE FROM jobs WHERE id = ANY($1::uuid[])`, [[...refused.keys()]]);
    const fresh = writes.filter((w) => created.has(w.job.id) && !refused.has(w.job.id));
    if (fresh.length > 0) {
      const records = fresh.map((w) => {
        const r = reservations.get(w.job.id);
        return w.requested(r && 'reserved' in r ? r.reserved : undefined);
      });
      await this.appendTimeline(
        manager,
        fresh.map((w, i) => ({ jobId: w.job.id, row: { ...w.timeline, eventId: records[i].id, time: records[i].headers['ce_time'] } })),
      );
      await appendToOutbox(manager, records);
    }
    const replays = writes.filter((w) => !created.has(w.job.id));
    const existing =
      replays.length === 0
        ? []
        : await manager.find(JobEntity, {
            where: replays.map((w) => ({ tenantId: w.job.tenantId, idempotencyKey: w.job.idempotencyKey! })),
          });
    return writes.map((w): CreateResult => {
      const refusal = refused.get(w.job.id);
      if (refusal) return { refused: refusal, created: false };
      if (created.has(w.job.id)) return { job: newJobEntity(w.job, now), created: true };
      const job = existing.find((e) => e.tenantId === w.job.tenantId && e.idempotencyKey === w.job.idempotencyKey);
      if (!job) throw new Error(`job ${w.job.id}: neither inserted nor found by its idempotency key`);
      return { job, created: false };
    });
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

  /**
   * Erases a finished job's payloads from intake's store and emits the event on which every other
   * service erases its own, in one transaction: the job's input and result, its steps' outputs, its
   * review's held output and findings, its dead letters' bodies, and its events already published
   * from the outbox (those not yet published must still go out). Metadata, status, cost and the
   * timeline remain. Returns undefined when the job is not finished (nothing is written) and the
   * first erasure's time when it was erased before.
   */
  async eraseData(
    manager: EntityManager,
    id: string,
    finished: readonly string[],
    event: (erasedAt: Date) => OutboxRecord,
  ): Promise<{ erasedAt: Date; now: boolean } | undefined> {
    const [rows]: [{ data_erased_at: Date; erased_now: boolean }[], number] = await manager.query(
      `UPDATE jobs SET input = jsonb_build_object('text', ''), result = NULL, would_review = NULL,
              steps = (SELECT jsonb_object_agg(k, v - 'output') FROM jsonb_each(steps) AS s(k, v)),
              data_erased_at = COALESCE(data_erased_at, now()), updated_at = now()
        WHERE id = $1 AND status = ANY($2::text[])
        RETURNING data_erased_at, data_erased_at = now() AS erased_now`,
      [id, finished],
    );
    if (rows.length === 0) return undefined;
    const erasedAt = new Date(rows[0].data_erased_at);
    await manager.query(`UPDATE reviews SET output = NULL, findings = '[]' WHERE job_id = $1`, [id]);
    await manager.query(`UPDATE dead_letters SET value = ''::bytea WHERE job_id = $1`, [id]);
    await manager.query(`DELETE FROM held_job_events WHERE job_id = $1`, [id]);
    // A reference answer given for it to a replay.
    await manager.query(`UPDATE replays SET "references" = "references" - $1::text WHERE "references" ? $1::text`, [id]);
    await manager.query(`DELETE FROM outbox WHERE key = $1 AND sent_at IS NOT NULL`, [id]);
    if (rows[0].erased_now) await appendToOutbox(manager, [event(erasedAt)]);
    return { erasedAt, now: rows[0].erased_now };
  }

  /** The shadow jobs replays made of this job. */
  async shadowsOf(manager: EntityManager, id: string): Promise<string[]> {
    const rows: { id: string }[] = await manager.query(`SELECT id FROM jobs WHERE shadow_of = $1 ORDER BY id`, [id]);
    return rows.map((r) => r.id);
  }

  /** Finished jobs whose retention has passed and whose payloads are still here, locked for erasing. */
  async dueForErasure(manager: EntityManager, finished: readonly string[], limit: number): Promise<{ id: string; tenant_id: string }[]> {
    return manager.query(
      `SELECT id, tenant_id FROM jobs
        WHERE retain_until < now() AND data_erased_at IS NULL AND status = ANY($1::text[])
        ORDER BY retain_until LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [finished, limit],
    );
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Writes events to the outbox on their own (no state change of the job here: the read model follows). */
  async emit(records: OutboxRecord[]): Promise<void> {
    await this.dataSource.transaction((manager) => appendToOutbox(manager, records));
  }

  async findForTenant(tenantId: string, id: string): Promise<JobEntity | null> {
    return this.dataSource.manager.findOneBy(JobEntity, { id, tenantId });
  }

  /** The job's cost ledger, in the order the calls were recorded, and its reservation. */
  async costs(jobId: string): Promise<{ calls: JobCost['calls']; reservedUsd?: number }> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT stage, step_id, step_run, generation_attempt, model, try, outcome, error_kind, input_tokens, output_tokens, cost_usd::text
         FROM job_costs WHERE job_id = $1 ORDER BY recorded_at, event_id, idx`,
      [jobId],
    );
    const [reservation]: { amount: string | null }[] = await this.dataSource.query(
      `SELECT max(amount_usd)::text AS amount FROM budget_reservations WHERE job_id = $1`,
      [jobId],
    );
    return {
      reservedUsd: reservation?.amount ? Number(reservation.amount) : undefined,
      calls: rows.map((r) => ({
        stage: r.stage as string,
        step: (r.step_id as string | null) ?? null,
        stepRun: (r.step_run as number | null) ?? null,
        generationAttempt: (r.generation_attempt as number | null) ?? null,
        model: r.model as string,
        try: r.try as number,
        outcome: r.outcome as string,
        errorKind: (r.error_kind as string | null) ?? null,
        inputTokens: r.input_tokens as number,
        outputTokens: r.output_tokens as number,
        costUsd: Number(r.cost_usd),
      })),
    };
  }

  async timeline(jobId: string): Promise<JobEventEntity[]> {
    return this.dataSource.manager.find(JobEventEntity, { where: { jobId }, order: { time: 'ASC', seq: 'ASC' } });
  }

  /** Newest first, keyset-paginated on (created_at, id). */
  async list(
    tenantId: string,
    options: {
      limit: number;
      after?: { createdAt: string; id: string };
      status?: string;
      workflow?: string;
      label?: string;
      from?: string;
      to?: string;
      /** A job id or an idempotency key. */
      q?: string;
      /** A replay's shadow jobs; without it, shadow jobs are left out. */
      replay?: string;
    },
  ): Promise<JobEntity[]> {
    const query = this.dataSource.manager
      .createQueryBuilder(JobEntity, 'job')
      .where('job.tenant_id = :tenantId', { tenantId })
      .andWhere(options.replay ? 'job.replay_id = :replay' : 'job.replay_id IS NULL', { replay: options.replay })
      .orderBy('job.created_at', 'DESC')
      .addOrderBy('job.id', 'DESC')
      .limit(options.limit);
    if (options.status) query.andWhere('job.status = :status', { status: options.status });
    if (options.workflow) query.andWhere('job.workflow_id = :workflow', { workflow: options.workflow });
    if (options.label) query.andWhere('job.label = :label', { label: options.label });
    if (options.from) query.andWhere('job.created_at >= :from::timestamptz', { from: options.from });
    if (options.to) query.andWhere('job.created_at < :to::timestamptz', { to: options.to });
    if (options.q) {
      const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(options.q);
      query.andWhere(isUuid ? '(job.id = :q::uuid OR job.idempotency_key = :q)' : 'job.idempotency_key = :q', { q: options.q });
    }
    if (options.after) {
      query.andWhere('(job.created_at, job.id) < (:createdAt::timestamptz, :id::uuid)', options.after);
    }
    return query.getMany();
  }

  private async appendTimeline(manager: EntityManager, entries: { jobId: string; row: TimelineRow }[]): Promise<void> {
    await manager.query(
      `INSERT INTO job_events (event_id, job_id, type, source, time, summary)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::text[])
       ON CONFLICT (event_id) DO NOTHING`,
      [
        entries.map((e) => e.row.eventId),
        entries.map((e) => e.jobId),
        entries.map((e) => e.row.type),
        entries.map((e) => e.row.source),
        entries.map((e) => e.row.time),
        entries.map((e) => e.row.summary),
      ],
    );
  }
}

/** The row just inserted, as the entity (no read back: every column is known). */
function newJobEntity(job: NewJob, createdAt: Date): JobEntity {
  return Object.assign(new JobEntity(), {
    id: job.id,
    tenantId: job.tenantId,
    workflowId: job.workflowId,
    workflowVersion: job.workflowVersion,
    status: 'requested',
    statusRank: 0,
    outcome: null,
    input: job.input,
    webhookUrl: job.webhookUrl,
    metadata: job.metadata,
    result: null,
    errors: null,
    costUsd: null,
    idempotencyKey: job.idempotencyKey,
    requestHash: job.requestHash,
    keyId: job.keyId,
    retainUntil: job.retainUntil,
    dataErasedAt: null,
    replayId: job.shadow?.replayId ?? null,
    shadowOf: job.shadow?.originalJobId ?? null,
    createdAt,
    updatedAt: createdAt,
  });
}
