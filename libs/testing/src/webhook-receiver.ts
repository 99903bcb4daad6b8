import { Webhook } from 'standardwebhooks';
import { listenOnLoopback } from './http-server';

export interface ReceivedWebhook {
  webhookId: string;
  verified: boolean;
  error?: string;
  payload?: { type: string; timestamp: string; data: { jobId: string } & Record<string, unknown> };
  headers: Record<string, string | string[] | undefined>;
  status: number;
  /** When it arrived (ms since the epoch). */
  receivedAt: number;
}

/** A scripted answer: a status, or a status with response headers (e.g. `Retry-After`). */
export type ScriptedResponse = number | { status: number; headers?: Record<string, string> };

/**
 * A customer's webhook endpoint for tests: verifies every signature with the independent
 * `standardwebhooks` implementation and records what arrived. `respond` scripts the status code.
 */
export async function startWebhookReceiver(secret: string, respond: (attempt: ReceivedWebhook) => ScriptedResponse = () => 204) {
  const verifier = new Webhook(secret);
  const received: ReceivedWebhook[] = [];
  const { url, close } = await listenOnLoopback((req, body, res) => {
    const webhookId = String(req.headers['webhook-id'] ?? '');
    const entry: ReceivedWebhook = { webhookId, verified: false, headers: req.headers, status: 0, receivedAt: Date.now() };
    try {
      entry.payload = verifier.verify(body.toString('utf8'), req.headers as Record<string, string>) as ReceivedWebhook['payload'];
      entry.verified = true;
    } catch (error) {
      entry.error = (error as Error).message;
    }
    const answer = entry.verified ? respond(entry) : 400;
    const { status, headers } = typeof answer === 'number' ? { status: answer, headers: undefined } : answer;
    entry.status = status;
    received.push(entry);
    res.writeHead(status, headers).end();
  });
  return { url: `${url}/webhooks`, received, close };
}
