import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, testKafka, waitFor } from '@troupe/testing';
import { type Browser, chromium, type Page } from 'playwright-core';
import { stringify } from 'yaml';
import { startTroupe, type TroupeSystem } from './support/troupe-system';

// The web console in a real headless Chromium against the five services as processes (real broker,
// real PostgreSQL). Failures leave a screenshot in .troupe/screenshots/ (its path is in the error).

const ADMIN = 'acme-console-admin-key-0123456789';
const SUBMITTER = 'acme-console-submitter-key-0123456789';
const OPERATOR = 'ops-console-platform-key-0123456789';
const SHOTS = join(repoRoot, '.troupe', 'screenshots');

const reviewed = {
  id: 'console-reviewed',
  version: 1,
  classification: { kind: 'rules', defaultLabel: 'general', rules: [{ label: 'billing', keywords: ['invoice', 'refund', 'charged'] }] },
  generation: { routes: { default: { model: 'local/templated-reply', instructions: 'Draft a short, polite support reply.' } } },
  output: { schema: { type: 'object', required: ['reply'], properties: { reply: { type: 'string', minLength: 5 } } } },
  review: { when: [{ always: true }], deadlineSeconds: 3600 },
};

let troupe: TroupeSystem;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  troupe = await startTroupe({
    label: 'console',
    env: { TROUPE_API_KEYS: `acme:admin:${ADMIN},acme:submitter:${SUBMITTER},ops:platform:${OPERATOR}`, TROUPE_REVIEW_POLL_MS: '200', TROUPE_JAEGER_URL: 'http://jaeger.example:16686' },
    extraWorkflows: { 'console-reviewed.v1.yaml': stringify(reviewed) },
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await troupe?.stop();
});

/** Runs a scenario; on failure saves a screenshot of the page and names it in the error. */
async function scenario(name: string, body: () => Promise<void>) {
  try {
    await body();
  } catch (error) {
    mkdirSync(SHOTS, { recursive: true });
    const path = join(SHOTS, `${name}.png`);
    await page.screenshot({ path, fullPage: true }).catch(() => undefined);
    (error as Error).message += `\n(screenshot: ${path})`;
    throw error;
  }
}

const submit = async (body: unknown, idempotencyKey?: string) => {
  const response = await troupe.request('/v1/jobs', {
    method: 'POST',
    body: JSON.stringify(body),
    key: SUBMITTER,
    headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
};
const ended = (id: string) =>
  waitFor(async () => {
    const { body } = await troupe.job(id, ADMIN);
    return body.outcome ? body : undefined;
  }, { description: `job ${id} to end` });

const INVOICE = 'Invoice INV-2291 from Northwind Traders to Contoso Ltd. Total due: EUR 1,250.00, payment terms 30 days, dated 2026-03-01.';
let chainJob: string;

describe('the web console', () => {
  it('given a wrong key, then sign-in is refused; given a valid key, then the jobs list shows the tenant’s jobs and finds one by idempotency key', () =>
    scenario('sign-in', async () => {
      chainJob = await submit({ workflow: 'document-chain', input: { text: INVOICE } }, 'console-invoice-1');
      const other = await submit({ workflow: 'document-summary', input: { text: 'A short note. It says little. It ends here.' } });
      await Promise.all([ended(chainJob), ended(other)]);

      // The page and its assets are served without a key; no data is.
      await page.goto(`${troupe.api}/console`);
      await page.getByLabel('API key').fill('not-a-key');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toContain('This key is not valid');

      await page.getByLabel('API key').fill(ADMIN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('acme · admin').waitFor();
      await page.locator('tbody tr', { hasText: chainJob.slice(0, 8) }).waitFor();
      await page.locator('tbody tr', { hasText: other.slice(0, 8) }).waitFor();

      await page.getByLabel('Search by job id or idempotency key').fill('console-invoice-1');
      await page.getByRole('button', { name: 'Apply' }).click();
      await waitFor(async () => (await page.locator('tbody tr').count()) === 1, { description: 'the search to narrow the list' });
      await expect(page.locator('tbody tr').textContent()).resolves.toContain(chainJob.slice(0, 8));
      await expect(page.locator('tbody tr').textContent()).resolves.toContain('invoice'); // its label
    }));

  it('given a finished three-step job, then its page draws the stages, steps and model attempts (with the fallback) on a time axis', () =>
    scenario('job-timeline', async () => {
      await page.locator('tbody tr', { hasText: chainJob.slice(0, 8) }).click();
      await page.getByRole('figure', { name: 'Job timeline' }).waitFor();
      const job = (await troupe.job(chainJob, ADMIN)).body;
      const steps = page.getByTestId('wf-step');
      await waitFor(async () => (await steps.count()) === 3, { description: 'three step rows' });
      for (const id of ['extract', 'summarise', 'translate'].filter((s) => job.steps[s])) {
        await expect(page.getByTestId('wf-step').filter({ hasText: `step ${id}` }).textContent()).resolves.toContain(job.steps[id].model);
      }
      // The first model of each step has no API key here: its failed attempt, then the local fallback.
      const attempts = page.getByTestId('wf-attempt');
      await expect(attempts.filter({ hasText: 'openai/gpt-4o-mini' }).first().textContent()).resolves.toContain('failed');
      await expect(attempts.filter({ hasText: 'local/field-extractor' }).first().textContent()).resolves.toContain('succeeded');
      expect(await page.getByTestId('wf-stage').count()).toBe(job.timeline.length);
      await expect(page.getByTestId('job-cost').textContent()).resolves.toMatch(/^\$\d/);
      expect(await page.getByRole('link', { name: 'Open in Jaeger' }).getAttribute('href')).toContain(
        `http://jaeger.example:16686/search?service=intake&tags=${encodeURIComponent(JSON.stringify({ 'troupe.job.id': chainJob }))}`,
      );
      const path = process.env.TROUPE_UPDATE_SCREENSHOTS ? join(repoRoot, 'docs', 'images', 'console-job-timeline.png') : join(SHOTS, 'job-timeline.png');
      mkdirSync(join(path, '..'), { recursive: true });
      await page.screenshot({ path, fullPage: true });
    }));

  it('given an output held for review, when the reviewer edits it from the keyboard, then the job is delivered with the edited output', () =>
    scenario('review', async () => {
      const id = await submit({ workflow: 'console-reviewed', input: { text: 'I was charged twice, please refund me.' } });
      await waitFor(async () => (await troupe.job(id, ADMIN)).body.status === 'awaiting_review', { description: 'the job to wait for review' });
      await page.getByRole('link', { name: 'Reviews' }).click();
      const review = page.getByTestId('review');
      await review.filter({ hasText: id }).waitFor();
      await expect(review.textContent()).resolves.toContain('"minLength": 5'); // the schema is shown
      await page.keyboard.press('e');
      const editor = page.getByLabel('Edited output');
      await editor.fill('{"reply": "x"}'); // too short: the server says why, the edit stays open
      await page.keyboard.press('Control+Enter');
      await expect(review.getByRole('alert').textContent()).resolves.toMatch(/reply/);
      await editor.fill('{"reply": "We refunded the second charge."}');
      await page.keyboard.press('Control+Enter');
      await page.getByRole('status').filter({ hasText: `Edited job ${id.slice(0, 8)}` }).waitFor();
      const job = await ended(id);
      expect(job).toMatchObject({ outcome: 'succeeded', result: { reply: 'We refunded the second charge.' } });
    }));

  it('given a dead-lettered signal, when the operator replays it from the console, then it is re-published and its replay counted', () =>
    scenario('dead-letter-replay', async () => {
      const producer = testKafka('troupe-test-console').producer();
      await producer.connect();
      await producer.send({ topic: 'troupe.signals', messages: [{ key: 'crm', value: '{console: not json' }] });
      await producer.disconnect();
      // A record that does not parse names no tenant: a tenant's admin never sees it, the platform operator does.
      const letter = await waitFor(async () => {
        const listed = (await (await troupe.request('/v1/admin/dead-letters?stage=intake', { key: OPERATOR })).json()) as { items: { id: string; code: string }[] };
        return listed.items.find((l) => l.code === 'INVALID_JSON');
      }, { description: 'the malformed signal to be dead-lettered' });
      await page.getByRole('link', { name: 'Dead letters' }).click();
      await page.getByTestId('dead-letters-empty').or(page.getByTestId('dead-letter').first()).waitFor();
      expect(await page.getByTestId('dead-letter').filter({ hasText: 'INVALID_JSON' }).count()).toBe(0);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('API key').fill(OPERATOR);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('ops · platform').waitFor();
      await page.getByRole('link', { name: 'Dead letters' }).click();
      const row = page.getByTestId('dead-letter').filter({ hasText: 'INVALID_JSON' });
      await row.waitFor();
      await row.getByRole('button', { name: 'Inspect' }).click();
      await expect(page.locator('.inspect').textContent()).resolves.toContain('{console: not json');
      await row.getByRole('button', { name: 'Replay' }).click();
      await page.getByRole('status').filter({ hasText: 'Replayed to troupe.signals (replay 1)' }).waitFor();
      // The replayed record is still malformed, so it may already be dead-lettered again as a new letter: check the replayed one.
      const replayed = (await (await troupe.request(`/v1/admin/dead-letters/${letter.id}`, { key: OPERATOR })).json()) as Record<string, unknown>;
      expect(replayed).toMatchObject({ replayCount: 1 });
    }));

  it('then the workflows page draws each step graph, and the usage page says whether usage data exists', () =>
    scenario('workflows-usage', async () => {
      await page.getByRole('link', { name: 'Workflows' }).click();
      const chain = page.getByTestId('workflow').filter({ hasText: 'document-chain' });
      await chain.waitFor();
      expect(await chain.locator('.node').count()).toBe(3);
      expect(await chain.locator('.edge').count()).toBe(2);
      await page.getByRole('link', { name: 'Costs & latency' }).click();
      const usage = await troupe.request(`/v1/usage?groupBy=workflow`, { key: ADMIN });
      if (usage.status === 404) await page.getByTestId('usage-unavailable').waitFor();
      else await page.locator('figure.chart').first().waitFor();
    }));
});
