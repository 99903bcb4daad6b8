/**
 * The benchmark's helper processes, each forked on its own so that its CPU time is measured apart
 * from the services' and the load generator's:
 *
 *   stub      an OpenAI-compatible model (the fake provider of libs/testing) answering after a
 *             latency the benchmark sets over IPC
 *   receiver  a customer's webhook endpoint: verifies each Standard Webhooks signature and records
 *             the first arrival and the number of deliveries per job
 *   otlp      an OTLP/HTTP trace receiver standing in for Jaeger's collector: counts and drops
 *
 * Each sends its URL to the parent once listening, then answers `{ type: 'report' }` messages.
 */
import { performance } from 'node:perf_hooks';
import { listenOnLoopback, startFakeModelProvider } from '@troupe/testing';
import { Webhook } from 'standardwebhooks';

export type HelperRole = 'stub' | 'receiver' | 'otlp';

/** What the receiver reports: per job id, the first arrival (ms since the epoch, sub-ms) and deliveries. */
export interface ReceiverReport {
  type: 'report';
  deliveries: [jobId: string, firstAt: number, count: number][];
  rejected: number;
}

const now = () => performance.timeOrigin + performance.now();
const send = (message: unknown) => process.send!(message);

/** The output every stub answer carries: it satisfies the benchmark workflow's output schema. */
export const STUB_OUTPUT = { reply: 'Thank you for writing to us. We have looked at your account and will follow up shortly.' };

async function stub(): Promise<void> {
  let latencyMs = 0;
  const fake = await startFakeModelProvider(() => ({
    latencyMs,
    content: STUB_OUTPUT,
    usage: { inputTokens: 120, outputTokens: 30 },
  }));
  fake.requests.push = () => 0; // keep no history: the benchmark sends many thousands
  fake.server.keepAliveTimeout = 60_000; // as real providers: no reconnect per call
  let served = 0;
  fake.server.on('request', () => served++);
  process.on('message', (m: { type: string; latencyMs?: number }) => {
    if (m.type === 'latency') latencyMs = m.latencyMs ?? 0;
    if (m.type === 'report') send({ type: 'report', served });
  });
  send({ type: 'ready', url: fake.openaiBaseUrl });
}

async function receiver(secret: string): Promise<void> {
  const verifier = new Webhook(secret);
  const deliveries = new Map<string, [firstAt: number, count: number]>();
  let rejected = 0;
  const { server, url } = await listenOnLoopback((req, body, res) => {
    const at = now();
    try {
      const payload = verifier.verify(body.toString('utf8'), req.headers as Record<string, string>) as { data: { jobId: string } };
      const seen = deliveries.get(payload.data.jobId);
      if (seen) seen[1]++;
      else deliveries.set(payload.data.jobId, [at, 1]);
      res.writeHead(204).end();
    } catch {
      rejected++;
      res.writeHead(400).end();
    }
  });
  server.keepAliveTimeout = 60_000;
  process.on('message', (m: { type: string }) => {
    if (m.type === 'report') {
      const report: ReceiverReport = { type: 'report', deliveries: [...deliveries].map(([id, [at, n]]) => [id, at, n]), rejected };
      send(report);
    }
  });
  send({ type: 'ready', url: `${url}/webhooks` });
}

async function otlp(): Promise<void> {
  let requests = 0;
  let bytes = 0;
  const { server, url } = await listenOnLoopback((req, body, res) => {
    requests++;
    bytes += body.length;
    // An empty ExportTraceServiceResponse: full success, in either encoding.
    const json = String(req.headers['content-type']).includes('json');
    res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
  });
  server.keepAliveTimeout = 60_000;
  process.on('message', (m: { type: string }) => {
    if (m.type === 'report') send({ type: 'report', requests, bytes });
  });
  send({ type: 'ready', url });
}

if (require.main === module) {
  const role = process.argv[2] as HelperRole;
  const started = role === 'stub' ? stub() : role === 'receiver' ? receiver(process.argv[3]) : otlp();
  started.catch((error) => {
    process.stderr.write(`bench helper ${role} failed: ${(error as Error).stack}\n`);
    process.exit(1);
  });
  process.on('disconnect', () => process.exit(0));
}
