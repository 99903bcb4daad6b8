import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import {
  JOB_REDELIVERY_REQUESTED_V1,
  SERVICES,
  type DeadLetterList,
  type DeadLetterView,
  type ListDeadLettersQuery,
  type ReplayDeadLetterResponse,
  type ServiceName,
} from '@troupe/contracts';
import {
  DLQ_HEADERS,
  originalHeaders,
  REPLAY_HEADER,
  toOutboxRecord,
  type ConsumedMessage,
  type MessageContext,
  type OutboxRecord,
} from '@troupe/messaging';
import { isPlatform, type Principal } from '../auth/api-keys';
import { IntakeErrorCode, IntakeException } from '../http/intake.exception';
import { ALL_TENANTS, DeadLettersRepository, type DeadLetterRow, type TenantScope } from './dead-letters.repository';

/** Delivery's dead letters for webhooks it could not send carry this pseudo-topic. */
const WEBHOOK_ORIGIN = 'webhook';
const VALUE_PREVIEW_BYTES = 4096;

/**
 * The operator's view of dead letters: every stage's `troupe.dlq.<stage>` is indexed here, listed
 * through the admin API, and replayed by republishing the original record (original key, value and
 * headers, so the original event id) to its original topic, marked with the dead letter's id so
 * that the consumer's inbox processes one replay of it at most.
 */
@Injectable()
export class DeadLettersService {
  constructor(private readonly letters: DeadLettersRepository) {}

  /** Indexes one dead-letter record. Never fails on content: a bad letter is stored as it is. */
  index(record: ConsumedMessage, ctx: MessageContext): void {
    // PostgreSQL text and jsonb cannot hold NUL: a letter that failed to index would be dead-lettered
    // into troupe.dlq.intake and indexed again, for ever. The value (bytea) keeps the exact bytes.
    const h = Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [clean(k), clean(v)]));
    const stage = record.topic.replace(/^troupe\.dlq\./, '') as ServiceName;
    this.letters.index(ctx, {
      id: `${stage}:${record.partition}:${record.offset}`,
      stage,
      originalTopic: h[DLQ_HEADERS.topic] ?? 'unknown',
      code: h[DLQ_HEADERS.code] ?? 'UNKNOWN',
      reason: h[DLQ_HEADERS.reason] ?? '',
      attempts: Number.isInteger(Number(h[DLQ_HEADERS.attempts])) ? Number(h[DLQ_HEADERS.attempts]) : null,
      consumer: h[DLQ_HEADERS.consumer] ?? null,
      jobId: h['ce_subject'] ?? null,
      tenantId: h['ce_tenantid'] ?? null,
      eventId: h['ce_id'] ?? null,
      eventType: h['ce_type'] ?? null,
      key: record.key === null ? null : clean(record.key),
      headers: h,
      value: record.value ?? Buffer.alloc(0),
      deadLetteredAt: !Number.isNaN(Date.parse(h[DLQ_HEADERS.time] ?? ''))
        ? h[DLQ_HEADERS.time]
        : new Date().toISOString(),
    });
  }

  /**
   * A tenant's admin sees the letters naming its tenant; a platform operator sees every letter,
   * those naming no tenant included, and may narrow to one tenant (`none`: letters naming none).
   */
  async list(principal: Principal, query: ListDeadLettersQuery): Promise<DeadLetterList> {
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    if (query.tenant !== undefined && !isPlatform(principal)) {
      throw new IntakeException(IntakeErrorCode.FORBIDDEN, HttpStatus.FORBIDDEN, 'only a platform operator may choose the tenant');
    }
    const tenant = isPlatform(principal)
      ? query.tenant === undefined
        ? ALL_TENANTS
        : query.tenant === 'none'
          ? null
          : query.tenant
      : principal.tenantId;
    const rows = await this.letters.list({
      tenant,
      stage: query.stage,
      code: query.code,
      pending: query.pending === undefined ? undefined : query.pending === 'true',
      limit: query.limit + 1,
      after,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => {
        const { headers: _headers, ...view } = toView(r);
        return view;
      }),
      nextCursor:
        rows.length > query.limit && last
          ? Buffer.from(JSON.stringify({ t: last.deadLetteredAt, id: last.id })).toString('base64url')
          : null,
    };
  }

  async get(principal: Principal, id: string): Promise<DeadLetterView> {
    return toView(await this.find(scopeOf(principal), id));
  }

  /**
   * Replays a dead letter after a fix. A delivery's undelivered webhook becomes a redelivery request
   * (delivery keeps the payload); anything else is republished to its original topic.
   */
  async replay(principal: Principal, id: string): Promise<ReplayDeadLetterResponse> {
    const scope = scopeOf(principal);
    const letter = await this.find(scope, id);
    const by = `api:${principal.tenantId}:${principal.role}`;
    let record: OutboxRecord;
    let replayedTo: string;
    if (letter.originalTopic === WEBHOOK_ORIGIN) {
      if (!letter.jobId || !letter.tenantId) throw notReplayable(id, 'it names no job');
      record = toOutboxRecord(
        {
          type: JOB_REDELIVERY_REQUESTED_V1,
          data: {
            jobId: letter.jobId,
            tenantId: letter.tenantId,
            requestedBy: `dead-letter:${id}`,
            requestedAt: new Date().toISOString(),
          },
        },
        { service: 'intake', correlationId: letter.jobId },
      );
      record.headers[REPLAY_HEADER] = id;
      replayedTo = 'redelivery';
    } else {
      if (
        !/^troupe\.[a-z0-9.-]+$/.test(letter.originalTopic) ||
        letter.originalTopic.startsWith('troupe.dlq.')
      ) {
        throw notReplayable(id, `its original topic ${letter.originalTopic} cannot be written to`);
      }
      record = {
        id: randomUUID(), // the outbox row's id; the event keeps its own ce_id in the headers
        topic: letter.originalTopic,
        key: letter.key,
        value: letter.value,
        headers: { ...originalHeaders(letter.headers), [REPLAY_HEADER]: id },
      };
      replayedTo = letter.originalTopic;
    }
    const replayCount = await this.letters.replay(scope, id, by, [record]);
    return { id, replayedTo, replayCount };
  }

  /** Another tenant's letter is indistinguishable from a missing one. */
  private async find(scope: TenantScope, id: string): Promise<DeadLetterRow> {
    const letter = /^[a-z]+:\d+:\d+$/.test(id) ? await this.letters.find(scope, id) : undefined;
    if (!letter)
      throw new IntakeException(
        IntakeErrorCode.DEAD_LETTER_NOT_FOUND,
        HttpStatus.NOT_FOUND,
        `no dead letter ${id}`,
      );
    return letter;
  }
}

const scopeOf = (principal: Principal): TenantScope => (isPlatform(principal) ? ALL_TENANTS : principal.tenantId);

function toView(r: DeadLetterRow): DeadLetterView {
  return {
    id: r.id,
    stage: (SERVICES as readonly string[]).includes(r.stage) ? (r.stage as ServiceName) : 'intake',
    originalTopic: r.originalTopic,
    code: r.code,
    reason: r.reason,
    attempts: r.attempts,
    consumer: r.consumer,
    jobId: r.jobId,
    tenantId: r.tenantId,
    eventId: r.eventId,
    eventType: r.eventType,
    deadLetteredAt: r.deadLetteredAt,
    replayCount: r.replayCount,
    lastReplayedAt: r.lastReplayedAt,
    value: r.value.subarray(0, VALUE_PREVIEW_BYTES).toString('utf8'),
    // Trace headers are noise to an operator; the rest says where the letter came from.
    headers: Object.fromEntries(
      Object.entries(r.headers).filter(([k]) => k !== 'traceparent' && k !== 'tracestate'),
    ),
  };
}

const clean = (text: string) => text.replace(/\u0000/g, '\ufffd');

const notReplayable = (id: string, why: string) =>
  new IntakeException(
    IntakeErrorCode.DEAD_LETTER_NOT_REPLAYABLE,
    HttpStatus.CONFLICT,
    `dead letter ${id} cannot be replayed: ${why}`,
  );

function decodeCursor(cursor: string): { t: string; id: string } {
  try {
    const { t, id } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      t: unknown;
      id: unknown;
    };
    if (typeof t === 'string' && !Number.isNaN(Date.parse(t)) && typeof id === 'string') return { t, id };
  } catch {
    // fall through
  }
  throw new IntakeException(IntakeErrorCode.INVALID_CURSOR, HttpStatus.BAD_REQUEST, 'cursor is not valid');
}
