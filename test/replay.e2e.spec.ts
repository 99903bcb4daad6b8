import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { Client } from 'pg';
import { stringify } from 'yaml';
import {
  readTopicUntil,
  repoRoot,
  startFakeModelProvider,
  startWebhookReceiver,
  waitFor,
  type FakeModelProvider,
  type FakeRequest,
} from '@troupe/testing';
import { SECRET, startTroupe, type TroupeSystem } from './support/troupe-system';

// Replay and shadow runs through the real pipeline (five service processes, a real broker and
// Postgres): 20 past jobs re-run on a workflow version with a changed prompt, the report's figures
// checked against what the fake provider was scripted to answer, and no shadow job delivered anywhere.

const ADMIN = 'acme-replay-admin-key-0123456789';
const SUBMITTER = 'acme-replay-submitter-key-0123456789';
const GLOBEX = 'globex-replay-admin-key-0123456789';
const RESULT_TOPIC = 'troupe.results.replay-e2e';
const BIN = join(repoRoot, 'cli', 'bin', 'troupe.mjs');
const JOBS = 20;
const SHOTS = join(repoRoot, '.troupe', 'screenshots');

const workflow = (version: number, instructions: string) => ({
  id: 'replay-reply',
  version,
  classification: { kind: 'rules', defaultLabel: 'general', rules: [{ label: 'escalate', keywords: ['manager'] }] },
  generation: { routes: { default: { model: 'openai/gpt-4o-mini', instructions, promptVersion: version } } },
  output: { schema: { type: 'object', required: ['reply'], properties: { reply: { type: 'string', minLength: 1 } } } },
  validation: { repair: { maxAttempts: 1 } },
  review: { when: [{ label: 'escalate' }], deadlineSeconds: 3600 },
  delivery: { topic: RESULT_TOPIC },
});

/**
 * The fake's script. Prompt v1: `Answer i`, 10 in + 5 out tokens. Prompt v2 (20 + 10 tokens):
 * jobs 0-9 the same answer, 10-16 `Answer i, improved`, 17-19 no `reply` (the schema rejects it).
 */
function answer(request: FakeRequest) {
  const body = JSON.stringify(request.body);
  const i = Number(/ticket (\d+)/.exec(body)![1]);
  if (body.includes('Reply with prompt one')) return { content: { reply: `Answer ${i}` }, usage: { inputTokens: 10, outputTokens: 5 } };
  const content = i < 10 ? { reply: `Answer ${i}` } : i < 17 ? { reply: `Answer ${i}, improved` } : { text: 'no reply field' };
  return { content, usage: { inputTokens: 20, outputTokens: 10 } };
}
// openai/gpt-4o-mini in config/models.yaml: $0.15 in, $0.60 out per million tokens.
const V1_COST = (10 * 0.15 + 5 * 0.6) / 1e6;
const V2_COST = (20 * 0.15 + 10 * 0.6) / 1e6;
const similarity = (a: string, b: string, distance: number) => 1 - distance / Math.max(a.length, b.length);

let troupe: TroupeSystem;
let fake: FakeModelProvider;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let db: Client;
const originals: string[] = [];

const call = async (path: string, init: { method?: string; body?: unknown; key?: string } = {}) => {
  const response = await troupe.request(path, {
    method: init.method ?? 'GET',
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    key: init.key ?? ADMIN,
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
};

function troupeCli(args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, TROUPE_API_URL: troupe.api, TROUPE_API_KEY: ADMIN } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  fake = await startFakeModelProvider(answer);
  receiver = await startWebhookReceiver(SECRET);
  troupe = await startTroupe({
    label: 'replay',
    env: {
      TROUPE_API_KEYS: `acme:admin:${ADMIN},acme:submitter:${SUBMITTER},globex:admin:${GLOBEX}`,
      TROUPE_OPENAI_BASE_URL: fake.openaiBaseUrl,
      TROUPE_OPENAI_API_KEY: 'sk-e2e-replay-openai',
    },
    extraWorkflows: {
      'replay-reply.v1.yaml': stringify(workflow(1, 'Reply with prompt one.')),
      'replay-reply.v2.yaml': stringify(workflow(2, 'Reply with prompt two.')),
    },
  });
  db = new Client({ connectionString: troupe.db.url });
  await db.connect();

  // The past: 20 jobs on v1 with a webhook and the result topic; 0-2 are held for review and decided.
  const budget = await call('/v1/admin/budgets', { method: 'POST', body: { name: 'replay-month', period: 'month', limitUsd: 100 } });
  expect(budget.status).toBe(201);
  for (let i = 0; i < JOBS; i++) {
    const text = i < 3 ? `ticket ${i}: I want to speak to a manager` : `ticket ${i}: where is my parcel?`;
    const created = await troupe.submit({ workflow: 'replay-reply', workflowVersion: 1, input: { text }, webhook: { url: receiver.url } }, SUBMITTER);
    expect(created.status).toBe(202);
    originals.push(created.body.id);
  }
  const held = await waitFor(async () => {
    const items = (await call('/v1/reviews')).body.items as { id: string; jobId: string }[];
    return items.length === 3 ? items : undefined;
  }, { description: 'three reviews' });
  const review = (i: number) => held.find((r) => r.jobId === originals[i])!.id;
  expect((await call(`/v1/reviews/${review(0)}/decision`, { method: 'POST', body: { decision: 'approve' } })).status).toBe(202);
  expect((await call(`/v1/reviews/${review(1)}/decision`, { method: 'POST', body: { decision: 'edit', output: { reply: 'Answer 1!' } } })).status).toBe(202);
  expect((await call(`/v1/reviews/${review(2)}/decision`, { method: 'POST', body: { decision: 'reject' } })).status).toBe(202);
  await waitFor(async () => {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM intake.jobs WHERE id = ANY($1::uuid[]) AND finished_at IS NOT NULL AND settled_at IS NOT NULL`, [originals]);
    return rows[0].n === JOBS;
  }, { timeoutMs: 60_000, description: 'the 20 originals finished and settled' });
  await waitFor(() => new Set(receiver.received.filter((r) => r.status === 204).map((r) => r.payload!.data.jobId)).size === JOBS, {
    description: 'the originals’ 20 webhooks',
  });
});

afterAll(async () => {
  await db?.end();
  await troupe?.stop();
  await receiver?.close();
  await fake?.close();
});

describe('replays', () => {
  it('given 20 past jobs, when they are replayed on v2 with the CLI, then the report matches the scripted answers and no shadow is delivered or charged', async () => {
    const budgetBefore = (await call('/v1/admin/budgets')).body.items[0];
    const requestsBefore = fake.requests.length;

    const run = await troupeCli(['replay', 'start', '--workflow', 'replay-reply', '--target-version', '2', '--limit', '50', '--wait']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`^replay [0-9a-f-]{36}: ${JOBS} shadow jobs$`, 'm'));
    expect(run.stderr).toMatch(new RegExp(`${JOBS}/${JOBS} shadow jobs finished`));
    expect(run.stdout).toMatch(/^verdicts\s+original validated 17, review 3\s+shadow validated 14, review 3, rejected 3\s+changed 3$/m);
    const id = /^replay ([0-9a-f-]{36})/m.exec(run.stderr)![1];

    const report = (await call(`/v1/replays/${id}`, { key: SUBMITTER })).body;
    expect(report).toMatchObject({ status: 'completed', jobs: JOBS, skipped: [], chargeBudget: false, target: { workflowVersion: 2 } });
    // Every shadow called the fake once, on prompt two.
    const shadowCalls = fake.requests.slice(requestsBefore);
    expect(shadowCalls).toHaveLength(JOBS);
    expect(shadowCalls.every((r) => JSON.stringify(r.body).includes('Reply with prompt two.'))).toBe(true);

    const a = report.aggregate;
    expect(a.jobs).toBe(JOBS);
    expect(a.finished).toBe(JOBS);
    expect(a.costUsd.original).toBeCloseTo(JOBS * V1_COST, 12);
    expect(a.costUsd.shadow).toBeCloseTo(JOBS * V2_COST, 12);
    expect(a.costUsd.delta).toBeCloseTo(JOBS * (V2_COST - V1_COST), 12);
    expect(a.verdicts).toEqual({ original: { review: 3, validated: 17 }, shadow: { review: 3, validated: 14, rejected: 3 }, changed: 3 });
    // Both have an output for 16 pairs (not job 2, rejected by its reviewer; not 17-19, rejected by the schema):
    // 0 and 3-9 identical, 1 (edited to `Answer 1!`) one character off, 10-16 with `, improved` added.
    expect(a.outputs.compared).toBe(16);
    expect(a.outputs.exact).toBe(8);
    const improved = similarity('Answer 10', 'Answer 10, improved', 10);
    expect(a.outputs.meanSimilarity).toBeCloseTo((8 + similarity('Answer 1!', 'Answer 1', 1) + 7 * improved) / 16, 3);
    // References are the reviewers' decisions: job 0 approved (identical), job 1 edited, job 2 rejected (no answer).
    expect(a.references).toEqual({ compared: 2, exact: 1, meanSimilarity: expect.closeTo((1 + similarity('Answer 1!', 'Answer 1', 1)) / 2, 3) });
    expect(a.modelLatencyMs.shadow.p50).toEqual(expect.any(Number));

    const byOriginal = new Map((report.comparisons as any[]).map((c) => [c.original.jobId, c]));
    expect(byOriginal.size).toBe(JOBS);
    const pair = (i: number) => byOriginal.get(originals[i]);
    expect(pair(0)).toMatchObject({
      verdictChanged: false,
      original: { verdict: 'review', heldBecause: ['label escalate'], output: { reply: 'Answer 0' } },
      shadow: { verdict: 'review', heldBecause: ['label escalate'], output: { reply: 'Answer 0' }, status: 'delivered', workflow: { version: 2 } },
      output: { exact: true, similarity: 1, diff: [] },
      reference: { source: 'review', decision: 'approve', output: { reply: 'Answer 0' }, comparison: { exact: true } },
    });
    expect(pair(1).reference).toMatchObject({ source: 'review', decision: 'edit', output: { reply: 'Answer 1!' }, comparison: { exact: false } });
    expect(pair(2).reference).toEqual({ source: 'review', decision: 'reject' });
    expect(pair(12)).toMatchObject({ output: { exact: false, diff: [{ op: 'replace', path: '/reply', value: 'Answer 12, improved' }] } });
    expect(pair(12).costDeltaUsd).toBeCloseTo(V2_COST - V1_COST, 12);
    expect(pair(18)).toMatchObject({ verdictChanged: true, original: { verdict: 'validated' }, shadow: { verdict: 'rejected', reasons: [expect.objectContaining({ path: '/reply' })] } });

    // Shadow jobs were held by nobody, sent nowhere, and charged to no budget.
    const shadows = (report.comparisons as any[]).map((c) => c.shadow.jobId as string);
    expect((await call('/v1/reviews?status=all')).body.items.filter((r: { jobId: string }) => shadows.includes(r.jobId))).toEqual([]);
    expect((await db.query(`SELECT count(*)::int AS n FROM delivery.deliveries WHERE job_id = ANY($1::uuid[])`, [shadows])).rows[0].n).toBe(0);
    const topic = await readTopicUntil(RESULT_TOPIC, (m) => m.length >= JOBS);
    const published = topic.map((m) => JSON.parse(m.value!.toString()).data?.jobId ?? JSON.parse(m.value!.toString()).jobId);
    expect(published.filter((jobId) => shadows.includes(jobId))).toEqual([]);
    expect(receiver.received.filter((r) => shadows.includes(r.payload?.data.jobId ?? ''))).toEqual([]);
    const shadowJob = (await call(`/v1/jobs/${shadows[5]}`)).body;
    expect(shadowJob.shadow).toEqual({ replayId: id, originalJobId: report.comparisons[5].original.jobId });
    expect(shadowJob.timeline.map((e: { summary: string }) => e.summary)).toEqual(expect.arrayContaining([expect.stringMatching(/a shadow of job .* delivered nowhere/), 'no webhook target; result ready to be read']));
    const budgetAfter = (await call('/v1/admin/budgets')).body.items[0];
    expect(budgetAfter.current.spentUsd).toBe(budgetBefore.current.spentUsd);
    expect(budgetAfter.current.reservedUsd).toBe(0);

    // Shadow jobs stay out of job listings and usage, but are listed under their replay.
    const listed = (await call('/v1/jobs?workflow=replay-reply&limit=100')).body.items.map((j: { id: string }) => j.id);
    expect(listed.sort()).toEqual([...originals].sort());
    expect((await call(`/v1/jobs?replay=${id}&limit=100`)).body.items).toHaveLength(JOBS);
    const usage = (await call('/v1/usage?groupBy=workflow')).body.groups.find((g: { key: string }) => g.key === 'replay-reply');
    expect(usage.jobs).toBe(JOBS);
    expect(usage.costUsd).toBeCloseTo(JOBS * V1_COST, 12);

    // The CLI shows the same report; the list names the replay.
    const got = await troupeCli(['--json', 'replay', 'get', id]);
    expect(JSON.parse(got.stdout).aggregate).toEqual(a);
    expect((await troupeCli(['replay', 'list'])).stdout).toMatch(new RegExp(`^${id}\\s+replay-reply\\s+v2\\s+${JOBS}\\s+completed`, 'm'));
  });

  it('given a model and prompt override on chosen jobs with reference answers, then the shadows call that model with that prompt', async () => {
    const requestsBefore = fake.requests.length;
    const created = await call('/v1/replays', {
      method: 'POST',
      body: {
        jobs: [originals[4], originals[5]],
        target: { model: 'openai/gpt-4o', prompt: { instructions: 'Reply with prompt one, kindly.', version: 7 } },
        references: [{ jobId: originals[4], output: { reply: 'Answer 4' } }],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ jobs: 2, status: 'running', links: { self: `/v1/replays/${created.body.id}` } });
    const report = await waitFor(async () => {
      const r = (await call(`/v1/replays/${created.body.id}`)).body;
      return r.status === 'completed' ? r : undefined;
    }, { description: 'the two shadows to finish' });
    const calls = fake.requests.slice(requestsBefore);
    expect(calls.map((r) => r.model).sort()).toEqual(['gpt-4o', 'gpt-4o']);
    expect(calls.every((r) => JSON.stringify(r.body).includes('Reply with prompt one, kindly.'))).toBe(true);
    // gpt-4o: $2.50 in, $10 out per million tokens; the fake answers prompt one's 10 + 5 tokens.
    expect(report.aggregate.costUsd.shadow).toBeCloseTo(2 * (10 * 2.5 + 5 * 10) / 1e6, 12);
    const four = report.comparisons.find((c: any) => c.original.jobId === originals[4]);
    expect(four.reference).toMatchObject({ source: 'given', output: { reply: 'Answer 4' }, comparison: { exact: true } });
    const generated = (await call(`/v1/jobs/${four.shadow.jobId}`)).body.timeline.find((e: { type: string }) => e.type === 'troupe.job.generated.v1');
    expect(generated.summary).toMatch(/generated by openai\/gpt-4o via route default/);

    // Erasing the original erases the copies its shadows hold (input, output) and the reference given for it.
    expect((await call(`/v1/jobs/${originals[4]}/data`, { method: 'DELETE' })).status).toBe(202);
    const shadows = (await db.query(`SELECT id, input, result, data_erased_at FROM intake.jobs WHERE shadow_of = $1`, [originals[4]])).rows;
    expect(shadows.length).toBe(2); // the v2 replay's shadow and this one's
    for (const row of shadows) expect(row).toMatchObject({ input: { text: '' }, result: null, data_erased_at: expect.any(Date) });
    const after = (await call(`/v1/replays/${created.body.id}`)).body.comparisons.find((c: any) => c.original.jobId === originals[4]);
    expect(after.reference).toBeUndefined();
    expect(after.shadow.output).toBeUndefined();
  });

  it('given the console, when an admin starts a replay of the last 5 jobs on v2, then its report shows the comparison and a diff', async () => {
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      await page.goto(`${troupe.api}/console`);
      await page.getByLabel('API key').fill(ADMIN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('link', { name: 'Replays' }).click();
      const form = page.getByRole('form', { name: 'Start a replay' });
      await form.getByLabel('Workflow').selectOption('replay-reply');
      await form.getByLabel('On version').selectOption('2');
      await form.getByLabel('Last jobs').fill('5');
      await form.getByRole('button', { name: 'Replay as shadow jobs' }).click();
      // The newest five originals are 15-19: 15 and 16 improved, 17-19 rejected by the schema.
      await page.getByTestId('replay-status').filter({ hasText: 'completed · 5/5 shadow jobs finished' }).waitFor({ timeout: 30_000 });
      const aggregate = await page.getByTestId('replay-aggregate').textContent();
      expect(aggregate).toContain('validated 5 → validated 2, rejected 3 (3 changed)');
      expect(aggregate).toContain('0/2 identical');
      const improved = page.getByTestId('comparison').filter({ hasText: 'validated' }).filter({ hasNotText: 'rejected' }).first();
      await improved.click();
      await page.getByText('Diff (JSON Patch)').waitFor();
      await expect(page.locator('tr.detail pre').last().textContent()).resolves.toContain('improved');
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'replay-report.png'), fullPage: true });
    } catch (error) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'replay-report-failed.png'), fullPage: true }).catch(() => undefined);
      throw error;
    } finally {
      await browser.close();
    }
  });

  it('given bad replay requests, then each gets its own 4xx code and no shadow job is created', async () => {
    const shadowCount = async () => (await db.query(`SELECT count(*)::int AS n FROM intake.jobs WHERE replay_id IS NOT NULL`)).rows[0].n as number;
    const before = await shadowCount();
    const post = (body: unknown, key = ADMIN) => call('/v1/replays', { method: 'POST', body, key });
    expect((await post({ jobs: [originals[0]], window: { workflow: 'replay-reply' }, target: { workflowVersion: 2 } })).body.error.code).toBe('VALIDATION_FAILED');
    expect((await post({ jobs: [originals[0]], target: {} })).body.error.code).toBe('VALIDATION_FAILED');
    const noVersion = await post({ jobs: [originals[0]], target: { workflowVersion: 9 } });
    expect([noVersion.status, noVersion.body.error.code]).toEqual([422, 'UNKNOWN_WORKFLOW_VERSION']);
    const noModel = await post({ jobs: [originals[0]], target: { model: 'openai/gpt-unknown' } });
    expect([noModel.status, noModel.body.error.code]).toEqual([422, 'UNKNOWN_MODEL']);
    const noStep = await post({ jobs: [originals[0]], target: { model: 'openai/gpt-4o', steps: ['nope'] } });
    expect([noStep.status, noStep.body.error.code]).toEqual([422, 'REPLAY_UNKNOWN_STEP']);
    const empty = await post({ window: { workflow: 'replay-reply', label: 'no-such-label' }, target: { workflowVersion: 2 } });
    expect([empty.status, empty.body.error.code]).toEqual([422, 'REPLAY_NO_JOBS']);
    const mixed = await troupe.submit({ workflow: 'document-summary', input: { text: 'The board met. It adjourned.' } }, SUBMITTER);
    const twoWorkflows = await post({ jobs: [originals[0], mixed.body.id], target: { workflowVersion: 2 } });
    expect([twoWorkflows.status, twoWorkflows.body.error.code]).toEqual([422, 'REPLAY_MIXED_WORKFLOWS']);
    // Another tenant's jobs do not exist for it; a submitter may not start a replay.
    const foreign = await post({ jobs: [originals[0]], target: { workflowVersion: 2 } }, GLOBEX);
    expect([foreign.status, foreign.body.error.code]).toEqual([404, 'JOB_NOT_FOUND']);
    expect((await post({ jobs: [originals[0]], target: { workflowVersion: 2 } }, SUBMITTER)).status).toBe(403);
    expect((await call(`/v1/replays/${(await call('/v1/replays')).body.items[0].id}`, { key: GLOBEX })).status).toBe(404);
    expect((await call('/v1/replays', { key: GLOBEX })).body.items).toEqual([]);
    expect(await shadowCount()).toBe(before);
  });
});
