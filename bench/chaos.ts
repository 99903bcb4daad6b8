/**
 * The chaos run (`npm run chaos`, docs/reliability.md): starts an isolated Troupe (its own broker,
 * database and ports, as the benchmark does), submits CHAOS_JOBS jobs at CHAOS_RATE per second and,
 * while they run, SIGKILLs a random service every few seconds (restarting it after a moment),
 * restarts the broker once and PostgreSQL once; the webhook receiver answers 503 to a share of
 * first attempts. Then it waits for every accepted job's webhook and prints one JSON line: accepted,
 * delivered, lost, duplicate effects, repeated deliveries of one webhook id, dead letters, and the
 * recovery time after each kind of fault (from the service or dependency being back to the first
 * webhook of a job accepted after the fault began).
 *
 *   CHAOS_JOBS=10000 CHAOS_RATE=50 CHAOS_REPLICAS=1 (2: scale-out, two of every service sharing
 *   their groups' partitions) CHAOS_FAULT_GAP_MS=2000-6000 CHAOS_DOWN_MS=0-1000 CHAOS_SEED=<n>
 *   CHAOS_BROKER_RESTART=0.3 CHAOS_POSTGRES_RESTART=0.6 (share of the jobs submitted; 'off' to skip)
 *   CHAOS_FAIL_FIRST=0.1 CHAOS_MODEL_LATENCY_MS=20 CHAOS_KAFKA_PORT=19192
 *   CHAOS_POSTGRES_RESTART_CMD   how to restart PostgreSQL (default: pg_ctlcluster <version> main restart)
 *
 * Restarting PostgreSQL drops every connection to that server, a running `npm run start:local`'s
 * too; set CHAOS_POSTGRES_RESTART=off on a machine where that matters.
 */
import { execSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { Client } from 'pg';
import { runChaos } from '@troupe/testing';
import { commitStamp } from './pipeline/report';
import { API_KEY, Stack } from './pipeline/stack';

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const num = (name: string, fallback: number) => Number(env(name, String(fallback)));
const range = (name: string, fallback: string): [number, number] => {
  const [min, max] = env(name, fallback).split('-').map(Number);
  return [min, max ?? min];
};
const share = (name: string, fallback: string) => (env(name, fallback) === 'off' ? undefined : Number(env(name, fallback)));

const CONFIG = {
  jobs: num('CHAOS_JOBS', 10_000),
  rate: num('CHAOS_RATE', 50),
  replicas: num('CHAOS_REPLICAS', 1),
  faultGapMs: range('CHAOS_FAULT_GAP_MS', '2000-6000'),
  downMs: range('CHAOS_DOWN_MS', '0-1000'),
  brokerRestartAt: share('CHAOS_BROKER_RESTART', '0.3'),
  postgresRestartAt: share('CHAOS_POSTGRES_RESTART', '0.6'),
  failFirst: num('CHAOS_FAIL_FIRST', 0.1),
  modelLatencyMs: num('CHAOS_MODEL_LATENCY_MS', 20),
  seed: num('CHAOS_SEED', Date.now() % 1_000_000),
  kafkaPort: num('CHAOS_KAFKA_PORT', 19192),
};

const log = (line: string) => process.stderr.write(`${line}\n`);

async function restartPostgres(databaseUrl: string): Promise<number> {
  const command =
    process.env.CHAOS_POSTGRES_RESTART_CMD ?? `pg_ctlcluster --skip-systemctl-redirect ${readdirSync('/etc/postgresql')[0]} main restart -m fast`;
  execSync(command, { stdio: ['ignore', 'ignore', 'inherit'] });
  for (;;) {
    const client = new Client({ connectionString: databaseUrl });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return Date.now();
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

async function main() {
  const stack = new Stack({
    tracing: false,
    partitions: 6,
    kafkaPort: CONFIG.kafkaPort,
    kafkaControllerPort: CONFIG.kafkaPort + 1,
    replicas: CONFIG.replicas,
    helpers: ['stub'],
    serviceEnv: {
      TROUPE_LOG_LEVEL: 'warn',
      TROUPE_WEBHOOK_RETRY_BASE_MS: '200',
      TROUPE_WEBHOOK_MAX_ATTEMPTS: '10',
    },
    log,
  });
  const stopOnSignal = () => void stack.stop().finally(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    await stack.start();
    stack.helpers.get('stub')!.send({ type: 'latency', latencyMs: CONFIG.modelLatencyMs });
    log(`chaos: ${CONFIG.jobs} jobs at ${CONFIG.rate}/s, ${CONFIG.replicas} of each service, seed ${CONFIG.seed}`);
    const report = await runChaos(
      {
        services: stack.replicas,
        restartBroker: () => stack.restartBroker(),
        restartPostgres: () => restartPostgres(stack.databaseUrl),
        deadLetters: async () => {
          const client = await stack.connect();
          try {
            return Number((await client.query('SELECT count(*) AS n FROM intake.dead_letters')).rows[0].n);
          } finally {
            await client.end();
          }
        },
      },
      {
        jobs: CONFIG.jobs,
        rate: CONFIG.rate,
        job: (i) => ({ workflow: 'bench', input: { text: `Hello, I was charged twice this month; please refund the extra payment. Ticket ${i}.` } }),
        apiKey: API_KEY,
        faultGapMs: CONFIG.faultGapMs,
        downMs: CONFIG.downMs,
        brokerRestartAt: CONFIG.brokerRestartAt,
        postgresRestartAt: CONFIG.postgresRestartAt,
        failFirstShare: CONFIG.failFirst,
        webhookSecret: stack.webhookSecret,
        drainTimeoutMs: 300_000,
        seed: CONFIG.seed,
        log,
      },
    );
    const { faults, ...summary } = report;
    for (const f of faults) log(`fault: ${f.fault} back after ${Math.round(f.backAt - f.at)} ms, recovered ${f.recoveryMs ?? 'never'} ms later`);
    process.stdout.write(`${JSON.stringify({ measurement: 'chaos', replicas: CONFIG.replicas, rate: CONFIG.rate, ...summary, commit: commitStamp().commit })}\n`);
    process.exitCode = report.lost === 0 && report.duplicateEffects === 0 ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

void main().catch((error) => {
  log(`chaos: ${(error as Error).stack}`);
  process.exit(1);
});
