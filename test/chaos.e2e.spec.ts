/**
 * The chaos run, small (docs/reliability.md; `npm run chaos` is the large one): 600 jobs
 * while every stage is SIGKILLed in turn, twice, and the broker is restarted once, with a receiver
 * failing a tenth of first attempts. No accepted job may be lost, none may take effect twice, and
 * each killed service must be back at work within seconds.
 */
import { execFileSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { Client } from 'pg';
import { isLocalInstanceBroker, KAFKA_BROKERS, repoRoot, runChaos, startFakeModelProvider, type ChaosReport } from '@troupe/testing';
import { ACME_KEY, SECRET, startTroupe } from './support/troupe-system';

const CHAOS = `
id: e2e-chaos
version: 1
description: One model call, as most jobs are.
classification: { kind: rules, defaultLabel: note }
generation:
  routes:
    default: { model: openai/gpt-4o-mini, instructions: Summarise. }
output: { schema: { type: object, required: [summary] } }
`;

let troupe: Awaited<ReturnType<typeof startTroupe>>;
let fake: Awaited<ReturnType<typeof startFakeModelProvider>>;

beforeAll(async () => {
  fake = await startFakeModelProvider(() => ({ latencyMs: 20, content: { summary: 'A short summary.' }, usage: { inputTokens: 50, outputTokens: 10 } }));
  troupe = await startTroupe({
    label: 'chaos',
    extraWorkflows: { 'e2e-chaos.v1.yaml': CHAOS },
    env: {
      TROUPE_OPENAI_BASE_URL: fake.openaiBaseUrl,
      TROUPE_OPENAI_API_KEY: 'sk-e2e-chaos-openai',
      TROUPE_WEBHOOK_MAX_ATTEMPTS: '10',
      TROUPE_LOG_LEVEL: 'error',
    },
  });
});

afterAll(async () => {
  await troupe.stop();
  await fake.close();
});

/** The tests' own broker (scripts/test.sh exports where it lives), stopped cleanly and started again. */
async function restartTestBroker(): Promise<number> {
  if (isLocalInstanceBroker(KAFKA_BROKERS)) throw new Error('refusing to restart the local instance’s broker');
  const kafka = (command: string) => execFileSync('bash', [`${repoRoot}/deploy/kafka/kafka.sh`, command], { stdio: 'ignore' });
  kafka('down');
  kafka('up');
  const [host, port] = KAFKA_BROKERS[0].split(':');
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host, port: Number(port) });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it('given every stage SIGKILLed twice and a broker restart while 600 jobs run, then every accepted job is delivered, none takes effect twice, and work resumes within seconds', async () => {
  const report: ChaosReport = await runChaos(
    {
      services: new Map([...troupe.services].map(([name, process]) => [name, [process]])),
      restartBroker: restartTestBroker,
      deadLetters: async () => {
        const db = new Client({ connectionString: troupe.db.url });
        await db.connect();
        try {
          return Number((await db.query('SELECT count(*) AS n FROM intake.dead_letters')).rows[0].n);
        } finally {
          await db.end();
        }
      },
    },
    {
      jobs: 600,
      rate: 6,
      job: (i) => ({ workflow: 'e2e-chaos', input: { text: `Chaos job ${i}. It must arrive once.` } }),
      apiKey: ACME_KEY,
      killOrder: 'round-robin',
      faultGapMs: [300, 1_000],
      downMs: [0, 500],
      brokerRestartAt: 0.5,
      failFirstShare: 0.1,
      webhookSecret: SECRET,
      drainTimeoutMs: 120_000,
      // Far above the few seconds it takes, far below the 30 s a dead member held its partitions before.
      recoveryTimeoutMs: 20_000,
      seed: 42,
    },
  );
  const { faults, ...summary } = report;
  process.stdout.write(`chaos e2e: ${JSON.stringify(summary)}\n`);
  expect({ accepted: report.accepted, lost: report.lost, duplicateEffects: report.duplicateEffects, lostJobIds: report.lostJobIds }).toEqual({
    accepted: 600,
    lost: 0,
    duplicateEffects: 0,
    lostJobIds: [],
  });
  expect(report.kills).toBeGreaterThanOrEqual(10); // each of the five stages twice
  expect(faults.map((f) => f.fault)).toContain('broker restart');
  // Every fault was recovered from within 20 s (a webhook of a job accepted after it), none left stalled.
  expect(faults.filter((f) => f.recoveryMs === null)).toEqual([]);
  expect(report.deadLetters).toBe(0);
}, 400_000);
