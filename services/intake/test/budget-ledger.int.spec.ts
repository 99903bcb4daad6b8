import { randomUUID } from 'node:crypto';
import { createServiceDataSource, messagingMigrations, migrate } from '@troupe/persistence';
import { createTestDatabase } from '@troupe/testing';
import type { DataSource } from 'typeorm';
import { BudgetLedger } from '../src/budgets/budget-ledger';
import { CostLedgerBatch } from '../src/budgets/cost-ledger.batch';
import { SettlementSweeper } from '../src/budgets/settlement-sweeper';
import type { IntakeConfig } from '../src/intake.config';
import { intakeDefinition } from '../src/intake.config';

// The budget ledger on a real PostgreSQL: concurrent reservations from separate connections (as
// from several intake processes), settlement in any order and more than once, the sweeper.

const schema = 'intake';
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let dataSources: DataSource[];
const ledger = new BudgetLedger();

beforeAll(async () => {
  db = await createTestDatabase('budget_ledger');
  dataSources = [0, 1].map(() =>
    createServiceDataSource({ schema, url: db.url, entities: [], migrations: [...messagingMigrations(schema), ...intakeDefinition.migrations], poolSize: 6 }),
  );
  await migrate(dataSources[0], schema);
  await dataSources[1].initialize();
});

afterAll(async () => {
  await Promise.all(dataSources.map((d) => d.destroy()));
  await db.drop();
});

/** Each test its own tenant: every budget of a tenant applies to its jobs. */
let tenant = '';
beforeEach(() => {
  tenant = `t-${randomUUID().slice(0, 8)}`;
});

async function budget(limitUsd: string, period = 'none'): Promise<string> {
  const id = randomUUID();
  await dataSources[0].query(`INSERT INTO budgets (id, tenant_id, name, period, limit_usd) VALUES ($1, $2, $3, $4, $5)`, [id, tenant, `b-${id}`, period, limitUsd]);
  return id;
}

async function newJob(): Promise<string> {
  const id = randomUUID();
  await dataSources[0].query(
    `INSERT INTO jobs (id, tenant_id, workflow_id, workflow_version, status, status_rank, input, metadata, created_at, updated_at)
     VALUES ($1, $2, 'w', 1, 'requested', 0, '{}', '{}', now(), now())`,
    [id, tenant],
  );
  return id;
}

const counters = async (budgetId: string) =>
  (await dataSources[0].query(`SELECT spent_usd::text AS spent, reserved_usd::text AS reserved FROM budget_periods WHERE budget_id = $1`, [budgetId]))[0] as {
    spent: string;
    reserved: string;
  };

describe('reservations', () => {
  it('given a budget for exactly 7 reservations, when 70 transactions on two pools reserve at once, then exactly 7 succeed', async () => {
    const id = await budget('0.7');
    const jobs = await Promise.all(Array.from({ length: 70 }, () => newJob()));
    const results = await Promise.all(
      jobs.map((jobId, i) =>
        dataSources[i % 2].transaction((m) => ledger.reserve(m, [{ jobId, tenantId: tenant, workflowId: 'w', keyId: null, amount: 100_000_000_000n }])),
      ),
    );
    const reserved = results.filter((r) => [...r.values()].some((x) => 'reserved' in x));
    expect(reserved.length).toBe(7);
    const refused = results.flatMap((r) => [...r.values()]).filter((x): x is { refused: any } => 'refused' in x);
    expect(refused.length).toBe(63);
    expect(refused[0].refused).toMatchObject({ limitUsd: 0.7, remainingUsd: 0, requiredUsd: 0.1, resetsAt: null });
    expect(await counters(id)).toEqual({ spent: '0.000000000000', reserved: '0.700000000000' });
  });
});

describe('settlement', () => {
  it('given cost events and the end in any order and repeated, then cost moves to spent once and the rest is released once', async () => {
    const id = await budget('10');
    const jobId = await newJob();
    await dataSources[0].transaction((m) => ledger.reserve(m, [{ jobId, tenantId: tenant, workflowId: 'w', keyId: null, amount: 1_000_000_000_000n }]));
    const call = (eventId: string, costUsd: number) => ({ eventId, idx: 0, jobId, stage: 'generation', model: 'm', try: 1, outcome: 'succeeded', inputTokens: 1, outputTokens: 1, costUsd, latencyMs: 1 });
    const chunk = async (fill: (b: CostLedgerBatch) => void, pool = 0) => {
      const batch = new CostLedgerBatch(ledger);
      fill(batch);
      await dataSources[pool].transaction((m) => batch.flush(m));
    };
    // The end first (the stage said $0.30 in all), then the calls, one of them twice.
    await chunk((b) => {
      b.expect(jobId, 0.3);
      b.end(jobId);
    });
    expect(await counters(id)).toEqual({ spent: '0.000000000000', reserved: '1.000000000000' });
    await chunk((b) => b.calls([call('e1', 0.1)]), 1);
    expect(await counters(id)).toEqual({ spent: '0.100000000000', reserved: '0.900000000000' });
    await Promise.all([chunk((b) => b.calls([call('e2', 0.2)]), 0), chunk((b) => b.calls([call('e2', 0.2)]), 1)]);
    expect(await counters(id)).toEqual({ spent: '0.300000000000', reserved: '0.000000000000' });
    const [job] = await dataSources[0].query(`SELECT cost_usd::text, settled_at FROM jobs WHERE id = $1`, [jobId]);
    expect(job.cost_usd).toBe('0.300000000000');
    expect(job.settled_at).not.toBeNull();
    // The end again, under a new event: nothing changes.
    await chunk((b) => {
      b.expect(jobId, 0.3);
      b.end(jobId);
    });
    expect(await counters(id)).toEqual({ spent: '0.300000000000', reserved: '0.000000000000' });
  });

  it('given an ended job whose ledger stays short of what a stage reported, then the sweeper settles it with what it has', async () => {
    const id = await budget('10');
    const jobId = await newJob();
    await dataSources[0].transaction((m) => ledger.reserve(m, [{ jobId, tenantId: tenant, workflowId: 'w', keyId: null, amount: 2_000_000_000_000n }]));
    const batch = new CostLedgerBatch(ledger);
    batch.calls([{ eventId: 'x1', idx: 0, jobId, stage: 'generation', model: 'm', try: 1, outcome: 'succeeded', inputTokens: 1, outputTokens: 1, costUsd: 0.5, latencyMs: 1 }]);
    batch.expect(jobId, 0.9); // a call of $0.40 never arrives
    batch.end(jobId);
    await dataSources[0].transaction((m) => batch.flush(m));
    expect(await counters(id)).toEqual({ spent: '0.500000000000', reserved: '1.500000000000' });
    const sweeper = new SettlementSweeper(dataSources[1], { TROUPE_BUDGET_SETTLE_AFTER_SECONDS: 0 } as IntakeConfig);
    expect(await sweeper.sweep()).toContain(jobId);
    expect(await counters(id)).toEqual({ spent: '0.500000000000', reserved: '0.000000000000' });
    expect(await sweeper.sweep()).not.toContain(jobId);
  });
});
