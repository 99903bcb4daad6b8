import { Webhook } from 'standardwebhooks';
import { listenOnLoopback } from './http-server';

export interface ReceivedWebhook {
  webhookId: string;
  verified: boolean;
  error?: string;
  payload?: { type: string; timestamp: string; data: { jobId: string } & Record<string, unknown> };
  headers: Record<string, string | string[] | undefined>;
  status: number;
}

/**
 * A customer's webhook endpoint for tests: verifies every signature with the independent
 * `standardwebhooks` implementation and records what arrived. `respond` scripts the status code.
 */
export async function startWebhookReceiver(secret: string, respond: (attempt: ReceivedWebhook) => number = () => 204) {
  const verifier = new Webhook(secret);
  const received: ReceivedWebhook[] = [];
  const { url, close } = await listenOnLoopback((req, body, res) => {
    const webhookId = String(req.headers['webhook-id'] ?? '');
    const entry: ReceivedWebhook = { webhookId, verified: false, headers: req.headers, status: 0 };
    try {
      entry.payload = verifier.verify(body.toString('utf8'), req.headers as Record<string, string>) as ReceivedWebhook['payload'];
      entry.verified = true;
    } catch (error) {
      entry.error = (error as Error).message;
    }
    entry.status = entry.verified ? respond(entry) : 400;
    received.push(entry);
    res.writeHead(entry.status).end();
  });
  return { url: `${url}/webhooks`, received, close };
}
