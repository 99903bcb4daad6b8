import { HttpStatus, Injectable } from '@nestjs/common';
import {
  JOB_CANCELLED_V1,
  REVIEW_STATUSES,
  JOB_REVIEW_EXPIRED_V1,
  JOB_REVIEW_REQUESTED_V1,
  REVIEW_DECIDED_V1,
  type JobReviewExpiredV1,
  type JobReviewRequestedV1,
  type ExportReviewsQuery,
  type ListReviewsQuery,
  type ReviewExample,
  type ReviewDecidedV1,
  type ReviewDecisionRequest,
  type ReviewList,
  type ReviewView,
} from '@troupe/contracts';
import { context } from '@opentelemetry/api';
import { toOutboxRecord, type MessageContext } from '@troupe/messaging';
import { contextFromHeaders, traceHeaders } from '@troupe/telemetry';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Principal } from '../auth/api-keys';
import { IntakeErrorCode, IntakeException } from '../http/intake.exception';
import { ReviewQueueBatch } from './review-queue.batch';
import { ReviewsRepository, type ReviewRow } from './reviews.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The review queue: a read model of validation's review events, and the decisions that answer them. */
@Injectable()
export class ReviewsService {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });
  private readonly schemas = new Map<string, ValidateFunction>();

  constructor(private readonly reviews: ReviewsRepository) {
    addFormats(this.ajv);
  }

  async list(principal: Principal, query: ListReviewsQuery): Promise<ReviewList> {
    const statuses =
      query.status === 'all' ? [...REVIEW_STATUSES] : query.status === 'pending' ? ['pending', 'escalated'] : [query.status];
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await this.reviews.list(principal.tenantId, {
      statuses,
      workflowId: query.workflow,
      label: query.label,
      jobId: query.job,
      limit: query.limit + 1,
      after,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return { items: page.map(toView), nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
  }

  /** The tenant's decided reviews as evaluation examples (input, held output, decision, edited output, reasons). */
  async export(principal: Principal, query: ExportReviewsQuery): Promise<ReviewExample[]> {
    const rows = await this.reviews.decided(principal.tenantId, {
      from: query.from,
      to: query.to,
      workflowId: query.workflow,
      limit: query.limit,
    });
    return rows.map((r) => {
      const d = r.decision as { decision: ReviewExample['decision']; comment?: string; decidedAt: string };
      return {
        reviewId: r.id,
        jobId: r.jobId,
        workflow: { id: r.workflowId, version: r.workflowVersion },
        label: r.label,
        input: r.input,
        heldOutput: r.output,
        heldBecause: r.heldBecause,
        findings: r.findings,
        decision: d.decision,
        editedOutput: d.decision === 'edit' ? (r.result ?? null) : null,
        comment: d.comment ?? null,
        decidedAt: d.decidedAt,
      };
    });
  }

  async get(principal: Principal, id: string): Promise<ReviewView> {
    const review = UUID.test(id) ? await this.reviews.find(principal.tenantId, id) : undefined;
    if (!review) throw notFound(id);
    return toView(review);
  }

  /** Records a decision and emits review.decided; validation completes the job from it. */
  async decide(principal: Principal, id: string, body: ReviewDecisionRequest): Promise<ReviewView> {
    if (!UUID.test(id)) throw notFound(id);
    const view = await this.reviews.decide(principal.tenantId, id, (review) => {
      if (review.status === 'decided' || review.status === 'expired' || review.status === 'cancelled') {
        throw new IntakeException(IntakeErrorCode.REVIEW_ALREADY_RESOLVED, HttpStatus.CONFLICT, `review ${id} is already ${review.status}`);
      }
      if (review.status === 'escalated' && principal.role !== 'admin' && principal.role !== 'platform') {
        throw new IntakeException(IntakeErrorCode.FORBIDDEN, HttpStatus.FORBIDDEN, `review ${id} was escalated: an admin must decide it`);
      }
      if (body.decision === 'edit') this.checkOutput(review, body.output);
      const decision = {
        decision: body.decision,
        comment: body.comment,
        reviewer: { keyId: principal.keyId, role: principal.role as 'reviewer' | 'admin' | 'platform' },
        decidedAt: new Date().toISOString(),
      };
      // The decision continues the job's trace (one trace per job), not the HTTP request's.
      const event = context.with(contextFromHeaders(review.traceHeaders), () =>
        toOutboxRecord(
          {
            type: REVIEW_DECIDED_V1,
            data: { jobId: review.jobId, tenantId: review.tenantId, reviewId: review.id, output: body.output, ...decision },
          },
          { service: 'intake', correlationId: review.jobId },
        ),
      );
      return { decision, event, result: toView({ ...review, status: 'decided', decision }) };
    });
    if (!view) throw notFound(id);
    return view;
  }

  /** Read model: applies a review event of the chunk (written with the rest of it). */
  recordEvent(type: string, data: unknown, ctx: MessageContext): void {
    const batch = () => ctx.deferred('review-queue', () => new ReviewQueueBatch());
    if (type === JOB_REVIEW_REQUESTED_V1) batch().hold(data as JobReviewRequestedV1, ctx.envelope.time, traceHeaders());
    else if (type === REVIEW_DECIDED_V1) batch().decided(data as ReviewDecidedV1);
    else if (type === JOB_REVIEW_EXPIRED_V1) batch().expired(data as JobReviewExpiredV1);
    else if (type === JOB_CANCELLED_V1) batch().cancelled((data as { jobId: string }).jobId);
  }

  private checkOutput(review: ReviewRow, output: unknown): void {
    const key = JSON.stringify(review.outputSchema);
    let validate = this.schemas.get(key);
    if (!validate) {
      validate = this.ajv.compile(review.outputSchema);
      this.schemas.set(key, validate);
    }
    if (validate(output)) return;
    throw new IntakeException(
      IntakeErrorCode.REVIEW_OUTPUT_INVALID,
      HttpStatus.UNPROCESSABLE_ENTITY,
      "the edited output does not satisfy the workflow's output schema",
      (validate.errors ?? []).map((e) => ({ path: `output${e.instancePath.replace(/\//g, '.')}`, message: `${e.keyword}: ${e.message ?? 'invalid'}` })),
    );
  }
}

const notFound = (id: string) => new IntakeException(IntakeErrorCode.REVIEW_NOT_FOUND, HttpStatus.NOT_FOUND, `no review ${id}`);

function toView(r: ReviewRow): ReviewView {
  const iso = (d: Date | string) => (d instanceof Date ? d.toISOString() : new Date(d).toISOString());
  return {
    id: r.id,
    jobId: r.jobId,
    workflow: { id: r.workflowId, version: r.workflowVersion },
    status: r.status,
    label: r.label,
    confidence: r.confidence,
    output: r.output,
    outputSchema: r.outputSchema,
    input: r.input,
    heldBecause: r.heldBecause,
    findings: r.findings,
    dueAt: iso(r.dueAt),
    onDeadline: r.onDeadline,
    decision: (r.decision as ReviewView['decision']) ?? null,
    requestedAt: iso(r.requestedAt),
  };
}

function encodeCursor(r: ReviewRow): string {
  const t = r.requestedAt instanceof Date ? r.requestedAt.toISOString() : String(r.requestedAt);
  return Buffer.from(JSON.stringify({ t, id: r.id })).toString('base64url');
}

function decodeCursor(cursor: string): { requestedAt: string; id: string } {
  try {
    const { t, id } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t: unknown; id: unknown };
    if (typeof t === 'string' && !Number.isNaN(Date.parse(t)) && typeof id === 'string' && UUID.test(id)) return { requestedAt: t, id };
  } catch {
    // fall through
  }
  throw new IntakeException(IntakeErrorCode.INVALID_CURSOR, HttpStatus.BAD_REQUEST, 'cursor is not valid');
}
