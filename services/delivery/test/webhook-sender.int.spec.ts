import { EgressPolicy, type ResolvedAddress } from '@troupe/egress';
import { listenOnLoopback, startWebhookReceiver } from '@troupe/testing';
import { parseRetryAfter, WebhookSender } from '../src/webhooks/webhook-sender';
import { WebhookSecrets } from '../src/webhooks/webhook-secrets';

// Real HTTP on loopback; DNS answers are scripted (the test cannot run a DNS server it controls),
// everything else is the production path: the sender's socket lookup, the egress checks, the signing.

const SECRET = 'whsec_' + Buffer.from('troupe-int-webhook-secret-0123456789').toString('base64');
const secrets = new WebhookSecrets(`*=${SECRET}`);
const message = (url: string) => ({
  id: 'msg_int',
  tenantId: 'acme',
  url,
  payload: { type: 'job.completed', data: { jobId: 'j' } },
  traceHeaders: {},
});
const resolver =
  (answers: Record<string, () => string>) =>
  async (host: string): Promise<ResolvedAddress[]> => {
    const answer = answers[host];
    if (!answer) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return [{ address: answer(), family: 4 }];
  };

describe('WebhookSender egress checks at connect time', () => {
  it('given a loopback receiver and no allowlist, when sending, then nothing reaches it and the failure is permanent WEBHOOK_URL_FORBIDDEN', async () => {
    const receiver = await startWebhookReceiver(SECRET);
    const sender = new WebhookSender(secrets, 2_000, new EgressPolicy([]));
    try {
      const result = await sender.send(message(receiver.url));
      expect(result).toMatchObject({ ok: false, retryable: false, code: 'WEBHOOK_URL_FORBIDDEN' });
      expect(receiver.received).toHaveLength(0);
    } finally {
      sender.close();
      await receiver.close();
    }
  });

  it('given the receiver allowlisted, when sending, then it arrives signed and verifies with standardwebhooks', async () => {
    const receiver = await startWebhookReceiver(SECRET);
    const sender = new WebhookSender(secrets, 2_000, EgressPolicy.fromSpec('127.0.0.1'));
    try {
      expect(await sender.send(message(receiver.url))).toMatchObject({ ok: true, statusCode: 204 });
      expect(receiver.received).toMatchObject([{ verified: true, webhookId: 'msg_int' }]);
    } finally {
      sender.close();
      await receiver.close();
    }
  });

  it('given a name whose DNS answer turns internal after the check, when sending, then the socket never connects', async () => {
    const receiver = await startWebhookReceiver(SECRET);
    const port = new URL(receiver.url).port;
    let calls = 0;
    const policy = new EgressPolicy(
      [],
      resolver({ 'rebind.test': () => (++calls === 1 ? '93.184.216.34' : '127.0.0.1') }),
    );
    const sender = new WebhookSender(secrets, 2_000, policy);
    try {
      await policy.checkUrl(`http://rebind.test:${port}/webhooks`); // what intake does at job creation: passes
      const result = await sender.send(message(`http://rebind.test:${port}/webhooks`));
      expect(result).toMatchObject({ ok: false, retryable: false, code: 'WEBHOOK_URL_FORBIDDEN' });
      expect(result.error).toMatch(/rebind\.test resolves to 127\.0\.0\.1, a loopback address/);
      expect(receiver.received).toHaveLength(0);
    } finally {
      sender.close();
      await receiver.close();
    }
  });

  it('given an allowlisted name, when sending, then it connects to the checked address and keeps the Host header', async () => {
    const receiver = await startWebhookReceiver(SECRET);
    const port = new URL(receiver.url).port;
    const sender = new WebhookSender(
      secrets,
      2_000,
      new EgressPolicy(['hooks.test'], resolver({ 'hooks.test': () => '127.0.0.1' })),
    );
    try {
      expect(await sender.send(message(`http://hooks.test:${port}/webhooks`))).toMatchObject({ ok: true });
      expect(receiver.received[0].headers.host).toBe(`hooks.test:${port}`);
    } finally {
      sender.close();
      await receiver.close();
    }
  });

  it('given a receiver redirecting to the metadata address, when sending, then the redirect is not followed and fails permanently', async () => {
    let metadataHits = 0;
    const metadata = await listenOnLoopback(
      (_req, _body, res) => void (metadataHits++, res.writeHead(200).end('secret')),
    );
    const redirector = await listenOnLoopback(
      (_req, _body, res) => void res.writeHead(302, { location: `${metadata.url}/latest/meta-data/` }).end(),
    );
    const sender = new WebhookSender(secrets, 2_000, EgressPolicy.fromSpec('127.0.0.1'));
    try {
      const result = await sender.send(message(`${redirector.url}/webhooks`));
      expect(result).toMatchObject({ ok: false, retryable: false, code: 'HTTP_302' });
      expect(result.error).toMatch(/redirects are not followed/);
      expect(metadataHits).toBe(0);
    } finally {
      sender.close();
      await redirector.close();
      await metadata.close();
    }
  });

  it('given 410, 503 with Retry-After and 404, when sending, then 410 disables, Retry-After is read, 404 is permanent', async () => {
    const answers = [
      { status: 410 },
      { status: 503, headers: { 'retry-after': '7' } },
      { status: 404, headers: { 'retry-after': '7' } },
    ];
    let i = 0;
    const receiver = await startWebhookReceiver(SECRET, () => answers[i++]);
    const sender = new WebhookSender(secrets, 2_000, EgressPolicy.fromSpec('127.0.0.1'));
    try {
      expect(await sender.send(message(receiver.url))).toMatchObject({
        ok: false,
        retryable: false,
        disableTarget: true,
        code: 'HTTP_410',
      });
      expect(await sender.send(message(receiver.url))).toMatchObject({
        ok: false,
        retryable: true,
        retryAfterMs: 7_000,
      });
      const notFound = await sender.send(message(receiver.url));
      expect(notFound).toMatchObject({ ok: false, retryable: false, code: 'HTTP_404' });
      expect(notFound.retryAfterMs).toBeUndefined(); // only 429/502/503/504 are honoured
    } finally {
      sender.close();
      await receiver.close();
    }
  });
});

describe('parseRetryAfter', () => {
  it('given seconds or an HTTP date, then it is the delay in milliseconds; garbage is ignored', () => {
    const now = Date.parse('2026-12-01T08:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('Tue, 01 Dec 2026 08:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 01 Dec 2026 07:00:00 GMT', now)).toBe(0); // in the past: now
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
