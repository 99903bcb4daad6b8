import { createHash } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { listenOnLoopback } from './http-server';
import type { ServiceProcess } from './service-process';

/**
 * The chaos run shared by `npm run chaos` and the chaos e2e test: submits jobs at a steady rate
 * (retrying a refused or failed submission with the same Idempotency-Key, as a client should)
 * while it SIGKILLs services and restarts the broker and PostgreSQL, one fault at a time, and a
 * webhook receiver fails some first attempts. It then waits for every accepted job's webhook and
 * counts what was lost or done twice, and how long each fault took to recover from.
 */

export interface ChaosTarget {
  /** The running replicas of each service, by service name. */
  services: Map<string, ServiceProcess[]>;
  /** Stops the broker, then starts it again; resolves with when it answered again (ms since the epoch). */
  restartBroker?: () => Promise<number>;
  /** Restarts PostgreSQL; resolves with when it accepted connections again. */
  restartPostgres?: () => Promise<number>;
  /** Dead letters recorded (intake's table), read at the end. */
  deadLetters: () => Promise<number>;
}

export interface ChaosOptions {
  jobs: number;
  /** Submissions per second. */
  rate: number;
  /** The job request (a webhook pointing at the chaos receiver is added). */
  job: (i: number) => Record<string, unknown>;
  apiKey: string;
  /** Pause between one fault's recovery and the next fault, drawn from [min, max] ms. */
  faultGapMs: [number, number];
  /** Which service is killed next: at random (default), or each in turn (every stage gets its kills). */
  killOrder?: 'random' | 'round-robin';
  /** How long a killed service stays down before it is started again, from [min, max] ms. */
  downMs: [number, number];
  /** Restart the broker / PostgreSQL once, after this share of the jobs was submitted (omit: never). */
  brokerRestartAt?: number;
  postgresRestartAt?: number;
  /** Share of webhook ids whose first attempt the receiver answers 503. */
  failFirstShare: number;
  webhookSecret: string;
  /** How long to wait after the last submission for every accepted job's webhook. */
  drainTimeoutMs: number;
  /** How long a fault may take to recover before the run calls it unrecovered and moves on. */
  recoveryTimeoutMs?: number;
  seed: number;
  log?: (line: string) => void;
}

export interface FaultRecord {
  fault: string;
  at: number;
  /** When the service or dependency was back: its HTTP answering, the broker or database accepting connections. */
  backAt: number;
  /** From back to the first webhook of a job accepted after the fault began; null when none came in time. */
  recoveryMs: number | null;
}

export interface ChaosReport {
  jobs: number;
  accepted: number;
  delivered: number;
  lost: number;
  /** Jobs whose outcome reached the receiver under two webhook ids or as two different outcomes. */
  duplicateEffects: number;
  /** Arrivals answered 2xx beyond the first for one webhook id (at-least-once: the receiver dedupes by webhook-id). */
  repeatedDeliveries: number;
  /** Submissions that had to be retried (refused while a dependency or intake was down). */
  submissionRetries: number;
  deadLetters: number;
  kills: number;
  faults: FaultRecord[];
  recoveryMs: Record<string, { count: number; p50: number | null; max: number | null; unrecovered: number }>;
  e2eMs: { p50: number; p99: number; max: number };
  durationS: number;
  seed: number;
  lostJobIds: string[];
}

/** A small seeded generator (mulberry32): a run can be repeated with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const now = () => Date.now(); // the same clock as the targets' restart times
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Arrival {
  webhookId: string;
  type: string;
  at: number;
}

/** The customer's endpoint: verifies signatures, fails some first attempts, records what it acknowledged. */
async function startChaosReceiver(secret: string, failFirstShare: number) {
  const verifier = new Webhook(secret);
  const acknowledged = new Map<string, Arrival[]>(); // by job id
  const attemptsById = new Map<string, number>();
  let rejected = 0;
  const failsFirst = (webhookId: string) => createHash('sha256').update(webhookId).digest().readUInt32BE(0) / 2 ** 32 < failFirstShare;
  const receiver = await listenOnLoopback((req, body, res) => {
    const at = now();
    let payload: { type: string; data: { jobId: string } };
    try {
      payload = verifier.verify(body.toString('utf8'), req.headers as Record<string, string>) as typeof payload;
    } catch {
      rejected++;
      return void res.writeHead(400).end();
    }
    const webhookId = String(req.headers['webhook-id']);
    const attempt = (attemptsById.get(webhookId) ?? 0) + 1;
    attemptsById.set(webhookId, attempt);
    if (attempt === 1 && failsFirst(webhookId)) return void res.writeHead(503).end();
    const list = acknowledged.get(payload.data.jobId) ?? [];
    list.push({ webhookId, type: payload.type, at });
    acknowledged.set(payload.data.jobId, list);
    res.writeHead(204).end();
  });
  receiver.server.keepAliveTimeout = 60_000;
  return { ...receiver, url: `${receiver.url}/webhooks`, acknowledged, rejected: () => rejected };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function runChaos(target: ChaosTarget, options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const random = seededRandom(options.seed);
  const between = ([min, max]: [number, number]) => min + random() * (max - min);
  const receiver = await startChaosReceiver(options.webhookSecret, options.failFirstShare);
  const accepted = new Map<string, number>(); // job id -> accepted at
  let submissionRetries = 0;
  let submitted = 0;
  const started = now();
  const intakes = () => target.services.get('intake') ?? [];

  // Clients: one submission per 1/rate s, each retried (other intake replica, same key) until accepted.
  const submitOne = async (i: number) => {
    const idempotencyKey = `chaos-${options.seed}-${i}`;
    const body = JSON.stringify({ ...options.job(i), webhook: { url: receiver.url } });
    for (let attempt = 0; ; attempt++) {
      const replicas = intakes();
      const intake = replicas[(i + attempt) % replicas.length];
      try {
        const response = await fetch(`${intake.url}/v1/jobs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        if (response.status === 202) {
          const job = (await response.json()) as { id: string };
          if (!accepted.has(job.id)) accepted.set(job.id, now());
          return;
        }
        await response.arrayBuffer();
        if (response.status < 500 && response.status !== 429) throw new Error(`job ${i} refused: HTTP ${response.status}`);
      } catch (error) {
        if ((error as Error).message.startsWith(`job ${i} refused`)) throw error;
      }
      submissionRetries++;
      await sleep(250);
    }
  };

  const inFlight = new Set<Promise<void>>();
  const load = (async () => {
    for (let i = 0; i < options.jobs; i++) {
      const due = started + (i * 1000) / options.rate;
      const wait = due - now();
      if (wait > 0) await sleep(wait);
      submitted = i + 1;
      const p = submitOne(i).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  })();

  /** The first acknowledged webhook, arriving after `after`, of a job accepted after `since`. */
  const firstArrivalAfter = (since: number, after: number): number | undefined => {
    let first: number | undefined;
    for (const [jobId, arrivals] of receiver.acknowledged) {
      const acceptedAt = accepted.get(jobId);
      if (acceptedAt === undefined || acceptedAt < since) continue;
      for (const a of arrivals) if (a.at >= after && (first === undefined || a.at < first)) first = a.at;
    }
    return first;
  };
  const recoveryTimeout = options.recoveryTimeoutMs ?? 60_000;
  const awaitRecovery = async (fault: Omit<FaultRecord, 'recoveryMs'>): Promise<FaultRecord> => {
    const deadline = now() + recoveryTimeout;
    while (now() < deadline) {
      const first = firstArrivalAfter(fault.at, fault.backAt);
      if (first !== undefined) return { ...fault, recoveryMs: Math.round(first - fault.backAt) };
      if (submitted >= options.jobs && inFlight.size === 0 && [...accepted.keys()].every((id) => receiver.acknowledged.has(id))) break;
      await sleep(20);
    }
    return { ...fault, recoveryMs: null };
  };

  const faults: FaultRecord[] = [];
  let kills = 0;
  let brokerDone = options.brokerRestartAt === undefined || !target.restartBroker;
  let postgresDone = options.postgresRestartAt === undefined || !target.restartPostgres;
  const chaos = (async () => {
    const names = [...target.services.keys()];
    while (submitted < options.jobs) {
      await sleep(between(options.faultGapMs));
      if (submitted >= options.jobs) break;
      const share = submitted / options.jobs;
      let fault: Omit<FaultRecord, 'recoveryMs'>;
      if (!brokerDone && share >= options.brokerRestartAt!) {
        brokerDone = true;
        const at = now();
        log('chaos: restarting the broker');
        fault = { fault: 'broker restart', at, backAt: await target.restartBroker!() };
      } else if (!postgresDone && share >= options.postgresRestartAt!) {
        postgresDone = true;
        const at = now();
        log('chaos: restarting PostgreSQL');
        fault = { fault: 'postgres restart', at, backAt: await target.restartPostgres!() };
      } else {
        const name = options.killOrder === 'round-robin' ? names[kills % names.length] : names[Math.floor(random() * names.length)];
        const replicas = target.services.get(name)!;
        const index = Math.floor(random() * replicas.length);
        const victim = replicas[index];
        const at = now();
        await victim.kill();
        kills++;
        await sleep(between(options.downMs));
        await victim.start({ until: 'health' });
        fault = { fault: `kill ${name}`, at, backAt: now() };
        log(`chaos: killed ${name}#${index}, back after ${Math.round(fault.backAt - at)} ms`);
      }
      const record = await awaitRecovery(fault);
      log(`chaos: ${record.fault} recovered ${record.recoveryMs === null ? 'never' : `${record.recoveryMs} ms`} after it was back`);
      faults.push(record);
    }
  })();

  await Promise.all([load, chaos]);
  log(`chaos: ${accepted.size} jobs accepted; waiting for their webhooks`);
  const drainDeadline = now() + options.drainTimeoutMs;
  while (now() < drainDeadline && ![...accepted.keys()].every((id) => receiver.acknowledged.has(id))) await sleep(100);
  // Late duplicates would show up in this window.
  await sleep(2_000);
  await receiver.close();

  let duplicateEffects = 0;
  let repeatedDeliveries = 0;
  const e2e: number[] = [];
  for (const [jobId, arrivals] of receiver.acknowledged) {
    const ids = new Set(arrivals.map((a) => a.webhookId));
    const types = new Set(arrivals.map((a) => a.type));
    if (ids.size > 1 || types.size > 1) duplicateEffects++;
    repeatedDeliveries += arrivals.length - ids.size;
    const acceptedAt = accepted.get(jobId);
    if (acceptedAt !== undefined) e2e.push(Math.min(...arrivals.map((a) => a.at)) - acceptedAt);
  }
  e2e.sort((a, b) => a - b);
  const lostJobIds = [...accepted.keys()].filter((id) => !receiver.acknowledged.has(id));
  const recoveryMs: ChaosReport['recoveryMs'] = {};
  for (const f of faults) {
    const kind = f.fault;
    const entry = (recoveryMs[kind] ??= { count: 0, p50: null, max: null, unrecovered: 0 });
    entry.count++;
    if (f.recoveryMs === null) entry.unrecovered++;
  }
  for (const [kind, entry] of Object.entries(recoveryMs)) {
    const values = faults.filter((f) => f.fault === kind && f.recoveryMs !== null).map((f) => f.recoveryMs!).sort((a, b) => a - b);
    entry.p50 = values.length ? percentile(values, 50) : null;
    entry.max = values.length ? values[values.length - 1] : null;
  }
  return {
    jobs: options.jobs,
    accepted: accepted.size,
    delivered: accepted.size - lostJobIds.length,
    lost: lostJobIds.length,
    duplicateEffects,
    repeatedDeliveries,
    submissionRetries,
    deadLetters: await target.deadLetters(),
    kills,
    faults,
    recoveryMs,
    e2eMs: { p50: Math.round(percentile(e2e, 50)), p99: Math.round(percentile(e2e, 99)), max: Math.round(e2e.at(-1) ?? 0) },
    durationS: Math.round((now() - started) / 100) / 10,
    seed: options.seed,
    lostJobIds: lostJobIds.slice(0, 20),
  };
}
