import { createHash, randomUUID } from 'node:crypto';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import {
  ROUTES_STEP_ID,
  JOB_CANCEL_REQUESTED_V1,
  JOB_DATA_ERASE_REQUESTED_V1,
  JOB_REDELIVERY_REQUESTED_V1,
  type CancelJobRequest,
  type CancelJobResponse,
  type EraseJobDataResponse,
  JOB_REQUESTED_V1,
  JOB_VALIDATED_V1,
  type EventData,
  type CreateJobRequest,
  type CreateJobResponse,
  type JobInput,
  type WebhookTarget,
  type WorkflowSnapshot,
  type Envelope,
  type EventType,
  type JobList,
  type JobStatus,
  type JobView,
  type JobCost,
  type ListJobsQuery,
} from '@troupe/contracts';
import { EgressErrorCode, EgressForbiddenError, EgressPolicy } from '@troupe/egress';
import { toOutboxRecord, type MessageContext } from '@troupe/messaging';
import { SERVICE_CONFIG } from '@troupe/runtime';
import type { IntakeConfig } from '../intake.config';
import type { Principal } from '../auth/api-keys';
import { IntakeErrorCode, IntakeException } from '../http/intake.exception';
import { BudgetLedger, type BudgetRefusal } from '../budgets/budget-ledger';
import { CostLedgerBatch } from '../budgets/cost-ledger.batch';
import { recordCost } from '../budgets/job-costs';
import { finishedAs, JobOutcomesBatch } from '../usage/job-outcomes';
import { CostBound } from '../budgets/cost-bound';
import { picoUsd, type Pico } from '../budgets/money';
import { WorkflowRegistry } from '../workflows/workflow-registry';
import type { JobEntity } from './job.entity';
import { JobsRepository, type NewJobWrite } from './jobs.repository';
import { projectEvent } from './read-model';
import { ReadModelBatch } from './read-model.batch';
import { WouldReviewBatch } from './would-review.batch';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

@Injectable()
export class JobsService {
  constructor(
    private readonly jobs: JobsRepository,
    @Inject(WorkflowRegistry) private readonly workflows: WorkflowRegistry,
    @Inject(EgressPolicy) private readonly egress: EgressPolicy,
    @Inject(CostBound) private readonly bound: CostBound,
    @Inject(SERVICE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  private readonly ledger = new BudgetLedger();
  private readonly latencyObjective = (workflowId: string) => this.workflows.resolve(workflowId)?.objectives?.latencyP95Ms;

  /** Accepts a job: pins the workflow version, stores the job and its job.requested event atomically. */
  async create(
    principal: Principal,
    request: CreateJobRequest,
    idempotencyKey: string | undefined,
    /** From a consumer (signals): write in its transaction, so the job commits with the inbox row. */
    ctx?: MessageContext,
  ): Promise<{ response: CreateJobResponse; replayed: boolean }> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new IntakeException(
        IntakeErrorCode.INVALID_IDEMPOTENCY_KEY,
        HttpStatus.BAD_REQUEST,
        'Idempotency-Key must be 1-255 printable ASCII characters',
      );
    }
    const workflow = this.workflows.resolve(request.workflow, request.workflowVersion);
    if (!workflow) {
      throw this.workflows.has(request.workflow)
        ? new IntakeException(
            IntakeErrorCode.UNKNOWN_WORKFLOW_VERSION,
            HttpStatus.UNPROCESSABLE_ENTITY,
            `workflow ${request.workflow} has no version ${request.workflowVersion}`,
          )
        : new IntakeException(
            IntakeErrorCode.UNKNOWN_WORKFLOW,
            HttpStatus.UNPROCESSABLE_ENTITY,
            `no workflow named ${request.workflow}`,
          );
    }
    if (request.input.text.length > workflow.input.maxLength) {
      throw new IntakeException(
        IntakeErrorCode.INPUT_TOO_LONG,
        HttpStatus.UNPROCESSABLE_ENTITY,
        `input.text has ${request.input.text.length} characters; workflow ${workflow.id} accepts at most ${workflow.input.maxLength}`,
      );
    }

    const webhook = request.webhook ?? workflow.delivery.webhook;
    if (webhook) await this.checkWebhook(webhook.url);
    const write = this.newJob(principal, workflow, {
      input: request.input,
      webhook,
      metadata: request.metadata ?? {},
      idempotencyKey: idempotencyKey ?? null,
      requestHash: idempotencyKey ? hashRequest(request) : null,
      reserve: true,
    });
    const result = await this.jobs.create(write.job, write.requested, write.timeline, ctx?.manager);
    if (result.refused) throw budgetExceeded(result.refused);
    const { job, created } = result;
    if (!created && job.requestHash !== write.job.requestHash) {
      throw new IntakeException(
        IntakeErrorCode.IDEMPOTENCY_KEY_REUSED,
        HttpStatus.UNPROCESSABLE_ENTITY,
        'this Idempotency-Key was already used with a different request body',
      );
    }
    return {
      replayed: !created,
      response: {
        id: job.id,
        status: job.status as JobStatus,
        workflow: { id: job.workflowId, version: job.workflowVersion },
        links: { self: `/v1/jobs/${job.id}` },
      },
    };
  }

  /**
   * A new job's write: its row (with the cost bound to reserve, unless `reserve` is false), its
   * job.requested event built once the reservation is known, and its first timeline line.
   */
  newJob(
    principal: Principal,
    workflow: WorkflowSnapshot,
    fields: {
      input: JobInput;
      webhook?: WebhookTarget;
      metadata: Record<string, string>;
      idempotencyKey: string | null;
      requestHash: string | null;
      reserve: boolean;
      shadow?: { replayId: string; originalJobId: string };
      /** At most this (a shadow job is erased no later than its original). */
      retainUntil?: Date | null;
    },
  ): NewJobWrite {
    const jobId = randomUUID();
    const now = new Date();
    const ownRetention = this.retainUntil(principal.tenantId, workflow.retention?.days, now);
    const retainUntil =
      fields.retainUntil && (!ownRetention || fields.retainUntil < ownRetention) ? fields.retainUntil : ownRetention;
    return {
      job: {
        id: jobId,
        tenantId: principal.tenantId,
        workflowId: workflow.id,
        workflowVersion: workflow.version,
        input: fields.input,
        webhookUrl: fields.webhook?.url ?? null,
        metadata: fields.metadata,
        idempotencyKey: fields.idempotencyKey,
        requestHash: fields.requestHash,
        keyId: principal.keyId,
        reserve: fields.reserve ? this.bound.of(workflow, fields.input.text) : null,
        retainUntil,
        shadow: fields.shadow,
      },
      requested: (reservedUsd: Pico | undefined) =>
        toOutboxRecord(
          {
            type: JOB_REQUESTED_V1,
            data: {
              budget: reservedUsd === undefined ? undefined : { reservedUsd: picoUsd(reservedUsd) },
              jobId,
              tenantId: principal.tenantId,
              workflow,
              input: fields.input,
              webhook: fields.webhook,
              metadata: fields.metadata,
              requestedAt: now.toISOString(),
              deadlineAt: workflow.deadlineSeconds ? new Date(now.getTime() + workflow.deadlineSeconds * 1000).toISOString() : undefined,
              shadow: fields.shadow,
            },
          },
          { service: 'intake', correlationId: jobId },
        ),
      timeline: {
        type: JOB_REQUESTED_V1,
        source: 'troupe/intake',
        summary: projectEvent(JOB_REQUESTED_V1, { workflow, shadow: fields.shadow }).summary,
      },
    };
  }

  /** SSRF guard: refuse targets inside the network now, with a clear code (delivery checks again at connect). */
  private async checkWebhook(url: string): Promise<void> {
    try {
      await this.egress.checkUrl(url);
    } catch (error) {
      if (!(error instanceof EgressForbiddenError)) throw error;
      const code =
        error.code === EgressErrorCode.WEBHOOK_HOST_UNRESOLVABLE
          ? IntakeErrorCode.WEBHOOK_HOST_UNRESOLVABLE
          : IntakeErrorCode.WEBHOOK_URL_FORBIDDEN;
      throw new IntakeException(
        code,
        HttpStatus.UNPROCESSABLE_ENTITY,
        `webhook.url refused: ${error.message}`,
        [{ path: 'webhook.url', message: error.message }],
      );
    }
  }

  /**
   * Asks delivery to send a finished job's result (or failure notification) again, through an event:
   * intake never calls delivery. Delivery re-sends the stored payload with the same webhook-id.
   */
  async redeliver(
    principal: Principal,
    id: string,
    requestedBy = `api:${principal.tenantId}:${principal.role}`,
  ) {
    const job = UUID.test(id) ? await this.jobs.findForTenant(principal.tenantId, id) : null;
    if (!job) throw new IntakeException(IntakeErrorCode.JOB_NOT_FOUND, HttpStatus.NOT_FOUND, `no job ${id}`);
    if (job.dataErasedAt) {
      throw new IntakeException(IntakeErrorCode.JOB_DATA_ERASED, HttpStatus.CONFLICT, `job ${id}'s data was erased: there is no result to redeliver`);
    }
    if (!job.webhookUrl) {
      throw new IntakeException(
        IntakeErrorCode.JOB_HAS_NO_WEBHOOK,
        HttpStatus.CONFLICT,
        `job ${id} has no webhook target to redeliver to`,
      );
    }
    if (!REDELIVERABLE.has(job.status)) {
      throw new IntakeException(
        IntakeErrorCode.JOB_NOT_REDELIVERABLE,
        HttpStatus.CONFLICT,
        `job ${id} is ${job.status}; only delivered, delivery_failed and failed jobs can be redelivered`,
      );
    }
    const event = toOutboxRecord(
      {
        type: JOB_REDELIVERY_REQUESTED_V1,
        data: { jobId: job.id, tenantId: job.tenantId, requestedBy, requestedAt: new Date().toISOString() },
      },
      { service: 'intake', correlationId: job.id },
    );
    await this.jobs.emit([event]);
    return {
      id: job.id,
      status: 'redelivery_requested' as const,
      eventId: event.id,
      links: { self: `/v1/jobs/${job.id}` },
    };
  }

  /**
   * Asks every stage to stop the job, through an event (202): intake cannot know how far the job
   * has got, so delivery decides whether the cancel came before the outcome. Asking again changes
   * nothing; a job with its outcome already is a 409.
   */
  async cancel(principal: Principal, id: string, request: CancelJobRequest): Promise<CancelJobResponse> {
    const job = UUID.test(id) ? await this.jobs.findForTenant(principal.tenantId, id) : null;
    if (!job) throw new IntakeException(IntakeErrorCode.JOB_NOT_FOUND, HttpStatus.NOT_FOUND, `no job ${id}`);
    const requestedBy = `api:${principal.tenantId}:${principal.role}`;
    const cancelled = job.cancelRequestedAt
      ? job
      : await this.jobs.requestCancel(
          principal.tenantId,
          job.id,
          requestedBy,
          (requestedAt) =>
            toOutboxRecord(
              {
                type: JOB_CANCEL_REQUESTED_V1,
                data: {
                  jobId: job.id,
                  tenantId: job.tenantId,
                  requestedBy,
                  requestedAt: requestedAt.toISOString(),
                  reason: request.reason,
                  webhook: job.webhookUrl ? { url: job.webhookUrl } : undefined,
                  workflow: { id: job.workflowId, version: job.workflowVersion },
                  metadata: job.metadata,
                },
              },
              { service: 'intake', correlationId: job.id },
            ),
          FINISHED,
        );
    // Not written: asked before (a race with another request), or it finished meanwhile.
    const current = cancelled ?? (await this.jobs.findForTenant(principal.tenantId, id))!;
    if (!current.cancelRequestedAt) {
      throw new IntakeException(
        IntakeErrorCode.JOB_ALREADY_FINISHED,
        HttpStatus.CONFLICT,
        `job ${id} is ${current.status}: it has its outcome already, there is nothing to cancel`,
      );
    }
    return {
      id: current.id,
      status: current.status === 'cancelled' ? 'cancelled' : 'cancel_requested',
      requestedAt: current.cancelRequestedAt.toISOString(),
      links: { self: `/v1/jobs/${current.id}` },
    };
  }

  /** The workflow's retention, else the tenant's, else `*`'s; none: payloads are kept. */
  private retainUntil(tenantId: string, workflowDays: number | undefined, createdAt: Date): Date | null {
    const byTenant = this.config.TROUPE_RETENTION_DAYS;
    const days = workflowDays ?? byTenant.get(tenantId) ?? byTenant.get('*');
    return days === undefined ? null : new Date(createdAt.getTime() + days * 24 * 60 * 60 * 1000);
  }

  /**
   * Erases a finished job's payloads (`DELETE /v1/jobs/:id/data`): intake's at once, every other
   * service's through `job.data-erase-requested`. Asking again answers the first erasure; a job still
   * running is a 409 (cancel it first), another tenant's a 404.
   */
  async eraseData(principal: Principal, id: string): Promise<EraseJobDataResponse> {
    const job = UUID.test(id) ? await this.jobs.findForTenant(principal.tenantId, id) : null;
    if (!job) throw new IntakeException(IntakeErrorCode.JOB_NOT_FOUND, HttpStatus.NOT_FOUND, `no job ${id}`);
    const requestedBy = `api:${principal.tenantId}:${principal.role}:${principal.keyId}`;
    const erased = await this.jobs.transaction(async (manager) => {
      const done = await this.jobs.eraseData(manager, job.id, ENDED, (at) => eraseEvent(job, 'request', requestedBy, at));
      // Its replays' shadow jobs hold copies of its input: the finished ones go with it.
      if (done) {
        for (const shadowId of await this.jobs.shadowsOf(manager, job.id)) {
          await this.jobs.eraseData(manager, shadowId, ENDED, (at) => eraseEvent({ id: shadowId, tenantId: job.tenantId }, 'request', requestedBy, at));
        }
      }
      return done;
    });
    if (!erased) {
      throw new IntakeException(
        IntakeErrorCode.JOB_NOT_FINISHED,
        HttpStatus.CONFLICT,
        `job ${id} is ${job.status}: only a finished job's data can be erased (cancel it first)`,
      );
    }
    return { id: job.id, status: 'data_erased', erasedAt: erased.erasedAt.toISOString(), links: { self: `/v1/jobs/${job.id}` } };
  }

  /** The retention sweep: erases up to `limit` finished jobs past their retention; returns how many. */
  async eraseExpired(limit = 200): Promise<number> {
    return this.jobs.transaction(async (manager) => {
      const due = await this.jobs.dueForErasure(manager, ENDED, limit);
      for (const job of due) await this.jobs.eraseData(manager, job.id, ENDED, (at) => eraseEvent({ id: job.id, tenantId: job.tenant_id }, 'retention', 'retention', at));
      return due.length;
    });
  }

  async get(principal: Principal, id: string): Promise<JobView> {
    // A job of another tenant is indistinguishable from a missing one.
    const job = UUID.test(id) ? await this.jobs.findForTenant(principal.tenantId, id) : null;
    if (!job) throw new IntakeException(IntakeErrorCode.JOB_NOT_FOUND, HttpStatus.NOT_FOUND, `no job ${id}`);
    const [timeline, costs] = await Promise.all([this.jobs.timeline(job.id), this.jobs.costs(job.id)]);
    return {
      ...toView(job, this.stepOrder(job)),
      cost: costBreakdown(costs.calls, costs.reservedUsd, !!job.settledAt, this.stepOrder(job)),
      timeline: timeline.map((e) => ({
        eventId: e.eventId,
        type: e.type,
        source: e.source,
        time: e.time.toISOString(),
        summary: e.summary,
      })),
    };
  }

  async list(principal: Principal, query: ListJobsQuery): Promise<JobList> {
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await this.jobs.list(principal.tenantId, {
      limit: query.limit + 1,
      after,
      status: query.status,
      workflow: query.workflow,
      label: query.label,
      from: query.from,
      to: query.to,
      q: query.q,
      replay: query.replay,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((job) => {
        const { steps: _steps, ...item } = toView(job, []);
        return item;
      }),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
    };
  }

  /** The job's step ids in graph order (declaration order; `generate` first), when this intake has its workflow. */
  private stepOrder(job: JobEntity): string[] {
    const workflow = this.workflows.resolve(job.workflowId, job.workflowVersion);
    if (!workflow) return [];
    return [...(workflow.generation ? [ROUTES_STEP_ID] : []), ...(workflow.steps ?? []).map((s) => s.id)];
  }

  /** Read model: applies a job event from any stage (written with the rest of its chunk). */
  recordEvent(type: EventType, data: { jobId: string }, ctx: MessageContext): void {
    const envelope: Envelope = ctx.envelope;
    const projection = projectEvent(type, data);
    recordCost(type, data, envelope.id, ctx.deferred('cost-ledger', () => new CostLedgerBatch(this.ledger)));
    const wouldReview = type === JOB_VALIDATED_V1 ? (data as EventData<typeof JOB_VALIDATED_V1>).wouldReview : undefined;
    if (wouldReview) ctx.deferred('would-review', () => new WouldReviewBatch()).add(data.jobId, wouldReview);
    const finished = finishedAs(type, data);
    if (finished) ctx.deferred('job-outcomes', () => new JobOutcomesBatch(this.latencyObjective)).add(data.jobId, finished, envelope.time);
    ctx
      .deferred('read-model', () => new ReadModelBatch())
      .add(
        {
          eventId: envelope.id,
          jobId: data.jobId,
          type,
          source: envelope.source,
          time: envelope.time,
          summary: projection.summary,
        },
        projection,
      );
  }
}

/** The ledger's calls with their sums by step (the classifier's under `classification`) and by model. */
function costBreakdown(recorded: JobCost['calls'], reservedUsd: number | undefined, settled: boolean, stepOrder: string[]): JobCost {
  // In the order they happened: the classifier, then each generation attempt's steps in graph order
  // (events of different steps arrive in any order; one step run's calls are in one event, in order).
  const rank = (c: JobCost['calls'][number]) => [
    c.stage === 'classification' ? 0 : 1,
    c.generationAttempt ?? 0,
    c.step === null ? -1 : stepOrder.includes(c.step) ? stepOrder.indexOf(c.step) : stepOrder.length,
    c.stepRun ?? 0,
  ];
  const calls = recorded
    .map((c, i) => ({ c, i, r: rank(c) }))
    .sort((a, b) => {
      for (let k = 0; k < a.r.length; k++) if (a.r[k] !== b.r[k]) return a.r[k] - b.r[k];
      return a.i - b.i;
    })
    .map((x) => x.c);
  const sum = (group: (c: JobCost['calls'][number]) => string) => {
    const out: Record<string, { calls: number; inputTokens: number; outputTokens: number; pico: number }> = {};
    for (const c of calls) {
      const g = (out[group(c)] ??= { calls: 0, inputTokens: 0, outputTokens: 0, pico: 0 });
      g.calls++;
      g.inputTokens += c.inputTokens;
      g.outputTokens += c.outputTokens;
      g.pico += Math.round(c.costUsd * 1e12);
    }
    return Object.fromEntries(Object.entries(out).map(([k, { pico, ...g }]) => [k, { ...g, costUsd: pico / 1e12 }]));
  };
  return {
    totalUsd: calls.reduce((n, c) => n + Math.round(c.costUsd * 1e12), 0) / 1e12,
    reservedUsd,
    settled,
    byStep: sum((c) => c.step ?? c.stage),
    byModel: sum((c) => c.model),
    calls,
  };
}

/** 402: the job's reservation does not fit a budget; the body says which, what is left and when it resets. */
export function budgetExceeded(r: BudgetRefusal): IntakeException {
  const scope = r.budget.workflowId ? ` (workflow ${r.budget.workflowId})` : r.budget.keyId ? ` (key ${r.budget.keyId})` : '';
  return new IntakeException(
    IntakeErrorCode.BUDGET_EXCEEDED,
    HttpStatus.PAYMENT_REQUIRED,
    `budget ${r.budget.name}${scope} has $${r.remainingUsd.toFixed(6)} left of $${r.limitUsd.toFixed(2)}; this job may cost up to $${r.requiredUsd.toFixed(6)}` +
      (r.resetsAt ? `; it resets at ${r.resetsAt}` : ''),
    undefined,
    { budget: r },
  );
}

/** Steps in graph order (the database keeps JSON keys in its own order); unknown ids last, as stored. */
function ordered<T>(steps: Record<string, T>, order: string[]): Record<string, T> {
  const rank = (id: string) => (order.includes(id) ? order.indexOf(id) : order.length);
  return Object.fromEntries(Object.entries(steps).sort(([a], [b]) => rank(a) - rank(b)));
}

const REDELIVERABLE = new Set(['delivered', 'delivery_failed', 'failed']);
function eraseEvent(job: { id: string; tenantId: string }, reason: 'retention' | 'request', requestedBy: string, at: Date) {
  return toOutboxRecord(
    { type: JOB_DATA_ERASE_REQUESTED_V1, data: { jobId: job.id, tenantId: job.tenantId, reason, requestedBy, requestedAt: at.toISOString() } },
    { service: 'intake', correlationId: job.id },
  );
}

/**
 * Statuses after which nothing more happens to a job unless someone asks (a redelivery): its data can
 * be erased. `validated` and `rejected` are not among them: their delivery is still to come.
 */
const ENDED = ['delivered', 'delivery_failed', 'failed', 'cancelled'] as const;

/** Statuses that mean the job has its outcome: a cancel comes too late. */
const FINISHED = ['validated', 'rejected', 'delivered', 'delivery_failed', 'failed', 'cancelled'] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toView(job: JobEntity, stepOrder: string[]): Omit<JobView, 'timeline'> {
  return {
    id: job.id,
    tenantId: job.tenantId,
    workflow: { id: job.workflowId, version: job.workflowVersion },
    status: job.status as JobStatus,
    outcome: (job.outcome as JobView['outcome']) ?? null,
    result: job.result ?? undefined,
    errors: job.errors ?? undefined,
    costUsd: job.costUsd === null ? undefined : Number(job.costUsd),
    steps: job.steps ? ordered(job.steps as NonNullable<JobView['steps']>, stepOrder) : undefined,
    metadata: job.metadata,
    label: job.label ?? undefined,
    idempotencyKey: job.idempotencyKey ?? undefined,
    dataErasedAt: job.dataErasedAt ? job.dataErasedAt.toISOString() : undefined,
    shadow: job.replayId && job.shadowOf ? { replayId: job.replayId, originalJobId: job.shadowOf } : undefined,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
  };
}

/** Canonical JSON (sorted keys) so that key order does not make two equal bodies differ. */
function hashRequest(request: CreateJobRequest): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value as Record<string, unknown>)
              .filter(([, v]) => v !== undefined)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, v]) => [k, canonical(v)]),
          )
        : value;
  return createHash('sha256')
    .update(JSON.stringify(canonical(request)))
    .digest('hex');
}

function encodeCursor(job: JobEntity): string {
  return Buffer.from(JSON.stringify({ t: job.createdAt.toISOString(), id: job.id })).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const { t, id } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      t: unknown;
      id: unknown;
    };
    if (typeof t === 'string' && !Number.isNaN(Date.parse(t)) && typeof id === 'string' && UUID.test(id)) {
      return { createdAt: t, id };
    }
  } catch {
    // fall through
  }
  throw new IntakeException(IntakeErrorCode.INVALID_CURSOR, HttpStatus.BAD_REQUEST, 'cursor is not valid');
}
