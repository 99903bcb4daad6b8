import type { OutboxRecord } from '@troupe/messaging';
import type { DeliveryConfig } from '../delivery.config';
import type { AttemptRecord, ClaimedDelivery, DeliveriesRepository } from './deliveries.repository';
import { DeliveryService } from './delivery.service';
import type { ResultTopics } from './result-topics';
import type { SendResult } from './webhook-sender';

// The retry rules, without a database: the repository is replaced by a recorder of what would be
// written (the real one is exercised by the end-to-end tests).

const config = {
  TROUPE_WEBHOOK_MAX_ATTEMPTS: 3,
  TROUPE_WEBHOOK_RETRY_BASE_MS: 1_000,
  TROUPE_WEBHOOK_RETRY_MAX_MS: 60_000,
  TROUPE_WEBHOOK_RETRY_HORIZON_MS: 10 * 60_000,
} as DeliveryConfig;

function given(delivery: Partial<ClaimedDelivery>, result: Partial<SendResult>) {
  const written: { attempts: AttemptRecord[]; events: OutboxRecord[] } = { attempts: [], events: [] };
  const repository = {
    recordAttempts: async (attempts: AttemptRecord[], events: OutboxRecord[]) =>
      Object.assign(written, { attempts, events }),
  } as unknown as DeliveriesRepository;
  const service = new DeliveryService(repository, {} as ResultTopics, config);
  const d: ClaimedDelivery = {
    id: 'msg_1',
    jobId: '6f1c0e4e-3f0a-4d7e-9b8a-1d2c3b4a5f60',
    tenantId: 'acme',
    url: 'https://hooks.example.com/',
    outcome: 'validated',
    payload: { type: 'job.completed' },
    traceHeaders: {},
    attempt: 1,
    roundBase: 0,
    roundStartedAt: new Date(),
    ...delivery,
  };
  const r: SendResult = { ok: false, retryable: true, latencyMs: 5, ...result };
  return {
    async when() {
      await service.recordResults([{ delivery: d, result: r }]);
      const types = written.events.map((e) => e.headers.ce_type ?? e.topic);
      const failed = written.events.find((e) => e.headers.ce_type === 'troupe.job.delivery-failed.v1');
      return { attempt: written.attempts[0], types, failed: failed && JSON.parse(failed.value.toString()) };
    },
  };
}

describe('delivery retry rules', () => {
  it('given a 503 with Retry-After within the horizon, then the next attempt is exactly then', async () => {
    const before = Date.now();
    const { attempt, types } = await given(
      {},
      { statusCode: 503, retryAfterMs: 120_000, code: 'HTTP_503' },
    ).when();
    expect(attempt.status).toBe('pending');
    expect(attempt.nextAttemptAt!.getTime() - before).toBeGreaterThanOrEqual(120_000);
    expect(attempt.nextAttemptAt!.getTime() - before).toBeLessThan(121_000);
    expect(types).toEqual(['troupe.job.delivery-attempted.v1']);
  });

  it('given a Retry-After beyond the horizon, then the delivery fails now and is dead-lettered', async () => {
    const { attempt, types, failed } = await given(
      {},
      { statusCode: 429, retryAfterMs: 3_600_000, code: 'HTTP_429', error: 'HTTP 429' },
    ).when();
    expect(attempt.status).toBe('failed');
    expect(types).toEqual([
      'troupe.job.delivery-attempted.v1',
      'troupe.job.delivery-failed.v1',
      'troupe.dlq.delivery',
    ]);
    expect(failed.reason).toMatch(/Retry-After asks for 3600 s would fall beyond the 600 s retry horizon/);
  });

  it('given a redelivered delivery, then the attempt limit counts from the start of its round', async () => {
    const early = await given({ attempt: 5, roundBase: 3 }, { statusCode: 500, error: 'HTTP 500' }).when();
    expect(early.attempt.status).toBe('pending'); // 2nd attempt of this round
    const late = await given({ attempt: 6, roundBase: 3 }, { statusCode: 500, error: 'HTTP 500' }).when();
    expect(late.attempt.status).toBe('failed'); // 3rd of this round
    expect(late.failed.reason).toBe('gave up after 6 attempts: HTTP 500');
  });

  it('given a 410, then the delivery fails at once and the target is disabled', async () => {
    const { attempt, failed } = await given(
      {},
      { statusCode: 410, retryable: false, disableTarget: true, code: 'HTTP_410', error: 'HTTP 410' },
    ).when();
    expect(attempt).toMatchObject({
      status: 'failed',
      sent: true,
      disable: { tenantId: 'acme', url: 'https://hooks.example.com/' },
    });
    expect(failed).toMatchObject({ code: 'HTTP_410', targetDisabled: true, attempts: 1 });
  });

  it('given a disabled target, then nothing counts as sent and the failure says why', async () => {
    const { attempt, types, failed } = await given(
      { targetDisabledReason: 'HTTP 410 Gone for job x' },
      { retryable: false, latencyMs: 0 },
    ).when();
    expect(attempt).toMatchObject({ status: 'failed', sent: false, code: 'TARGET_DISABLED' });
    expect(types).toEqual(['troupe.job.delivery-failed.v1', 'troupe.dlq.delivery']); // no attempt event
    expect(failed).toMatchObject({
      attempts: 0,
      code: 'TARGET_DISABLED',
      reason: expect.stringMatching(/target is disabled \(HTTP 410 Gone/),
    });
  });
});

describe('failure notifications', () => {
  const failed = {
    jobId: '6f1c0e4e-3f0a-4d7e-9b8a-1d2c3b4a5f60',
    tenantId: 'acme',
    stage: 'generation',
    code: 'UNKNOWN_MODEL',
    reason: 'no model x',
  };

  function service(known?: { webhookUrl: string }, cancelledFirst = false) {
    const scheduled: {
      outcome: string;
      url: string;
      payload: { type: string; data: Record<string, unknown> };
    }[] = [];
    const repository = {
      findTarget: async () =>
        known && {
          jobId: failed.jobId,
          tenantId: 'acme',
          webhookUrl: known.webhookUrl,
          resultTopic: null,
          workflow: { id: 'w', version: 1 },
          metadata: {},
        },
      schedule: (_ctx: unknown, d: (typeof scheduled)[number]) => scheduled.push(d),
      claimOutcome: async () => !cancelledFirst,
    } as unknown as DeliveriesRepository;
    return { scheduled, service: new DeliveryService(repository, {} as ResultTopics, config) };
  }
  const ctx = {} as Parameters<DeliveryService['onFailed']>[1];

  it('given a job.failed whose job.requested was seen, then its target gets a job.failed notification', async () => {
    const { scheduled, service: s } = service({ webhookUrl: 'https://a.example.com/' });
    await s.onFailed(failed, ctx);
    expect(scheduled).toMatchObject([
      {
        outcome: 'failed',
        url: 'https://a.example.com/',
        payload: { type: 'job.failed', data: { error: { stage: 'generation', code: 'UNKNOWN_MODEL' } } },
      },
    ]);
  });

  it('given a job.failed carrying the webhook and no job.requested seen yet, then the event’s own target is notified', async () => {
    const { scheduled, service: s } = service();
    await s.onFailed(
      {
        ...failed,
        webhook: { url: 'https://b.example.com/' },
        workflow: { id: 'w', version: 2 },
        metadata: { k: 'v' },
      },
      ctx,
    );
    expect(scheduled).toMatchObject([
      {
        url: 'https://b.example.com/',
        payload: { data: { workflow: { id: 'w', version: 2 }, metadata: { k: 'v' } } },
      },
    ]);
  });

  it('given a job cancelled before its failure reached delivery, then no failure notification is sent', async () => {
    const { scheduled, service: s } = service({ webhookUrl: 'https://a.example.com/' }, true);
    await s.onFailed(failed, ctx);
    expect(scheduled).toEqual([]);
  });

  it('given a job.failed with no target known at all, then it is retried later (transient), not dropped', async () => {
    const { service: s } = service();
    await expect(s.onFailed(failed, ctx)).rejects.toThrow(/job.requested has not been seen yet/);
  });
});
