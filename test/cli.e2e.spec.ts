import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, waitFor } from '@troupe/testing';
import { stringify } from 'yaml';
import { startTroupe, type TroupeSystem } from './support/troupe-system';

// The real `troupe` binary (the CLI workspace's bin) against the five services as processes.

const ADMIN = 'acme-cli-admin-key-0123456789';
const GLOBEX = 'globex-cli-admin-key-0123456789';
const BIN = join(repoRoot, 'cli', 'bin', 'troupe.mjs');
let troupe: TroupeSystem;

const reviewed = {
  id: 'cli-reviewed',
  version: 1,
  classification: { kind: 'rules', defaultLabel: 'general', rules: [] },
  generation: { routes: { default: { model: 'local/templated-reply', instructions: 'Draft a short, polite support reply.' } } },
  output: { schema: { type: 'object', required: ['reply'], properties: { reply: { type: 'string' } } } },
  review: { when: [{ always: true }], deadlineSeconds: 3600 },
};

beforeAll(async () => {
  troupe = await startTroupe({
    label: 'cli',
    env: { TROUPE_API_KEYS: `acme:admin:${ADMIN},globex:admin:${GLOBEX}`, TROUPE_REVIEW_POLL_MS: '200' },
    extraWorkflows: { 'cli-reviewed.v1.yaml': stringify(reviewed) },
  });
});
afterAll(() => troupe?.stop());

function troupeCli(args: string[], stdin?: string, env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, TROUPE_API_URL: troupe.api, TROUPE_API_KEY: ADMIN, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(stdin ?? '');
  });
}

describe('the troupe CLI', () => {
  it('given a job on stdin with --wait, then it prints a line per stage, the result, exits 0, and lists and shows the job', async () => {
    const request = { workflow: 'document-summary', input: { text: 'The board met on Monday. It approved the budget. It adjourned at noon.' } };
    const run = await troupeCli(['submit', '--wait', '--idempotency-key', 'cli-1'], JSON.stringify(request));
    expect(run.code).toBe(0);
    const id = /^job ([0-9a-f-]{36})$/m.exec(run.stderr)![1];
    for (const stage of ['intake', 'classification', 'generation', 'validation', 'delivery']) expect(run.stderr).toMatch(new RegExp(`^\\S+\\s+${stage}\\s`, 'm'));
    expect(run.stdout).toContain(`${id}  document-summary v1  delivered (succeeded)`);

    const listed = await troupeCli(['--json', 'jobs', 'list', '--search', 'cli-1']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).items.map((j: { id: string }) => j.id)).toEqual([id]);
    const table = await troupeCli(['jobs', 'list', '--workflow', 'document-summary']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+WORKFLOW\s+LABEL\s+STATUS\s+COST\s+CREATED$/);
    expect(table.stdout).toContain(id);
    const got = await troupeCli(['--json', 'jobs', 'get', id]);
    expect(JSON.parse(got.stdout)).toMatchObject({ id, outcome: 'succeeded' });

    // Meaningful exit codes: a bad request 2 (with the API's reason), an unknown job 2, no server 3.
    const bad = await troupeCli(['submit'], JSON.stringify({ workflow: 'no-such-flow', input: { text: 'x' } }));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/UNKNOWN_WORKFLOW|no-such-flow/);
    expect((await troupeCli(['jobs', 'get', '00000000-0000-4000-8000-000000000000'])).code).toBe(2);
    expect((await troupeCli(['jobs', 'list'], undefined, { TROUPE_API_URL: 'http://127.0.0.1:9' })).code).toBe(3);
    expect((await troupeCli(['jobs', 'frobnicate'])).code).toBe(2);
  });

  it('given a held output, then reviews list shows it and reviews approve delivers it; a cancelled job exits 1 under watch', async () => {
    const id = (await troupeCli(['submit'], JSON.stringify({ workflow: 'cli-reviewed', input: { text: 'Where is my parcel?' } }))).stdout.trim();
    const review = await waitFor(async () => {
      const r = await troupeCli(['--json', 'reviews', 'list']);
      return (JSON.parse(r.stdout).items as { id: string; jobId: string }[]).find((x) => x.jobId === id);
    }, { description: 'the review to be listed' });
    expect((await troupeCli(['reviews', 'approve', review.id, '--comment', 'fine'])).code).toBe(0);
    const watched = await troupeCli(['jobs', 'watch', id]);
    expect(watched.code).toBe(0);
    expect(watched.stderr).toMatch(/review/);

    // An edit, then the evaluation dataset: one JSONL line per decided review, of this tenant only.
    const edited = (await troupeCli(['submit'], JSON.stringify({ workflow: 'cli-reviewed', input: { text: 'Is my order late?' } }))).stdout.trim();
    const second = await waitFor(async () => {
      const r = await troupeCli(['--json', 'reviews', 'list']);
      return (JSON.parse(r.stdout).items as { id: string; jobId: string; output: unknown }[]).find((x) => x.jobId === edited);
    });
    expect((await troupeCli(['reviews', 'approve', second.id, '--output', '-'], '{"reply": "It ships tomorrow."}')).code).toBe(0);
    await waitFor(async () => (await troupe.job(edited, ADMIN)).body.outcome === 'succeeded');
    const exported = await troupeCli(['reviews', 'export', '--workflow', 'cli-reviewed']);
    const lines = exported.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([
      expect.objectContaining({ jobId: id, decision: 'approve', editedOutput: null, comment: 'fine', input: { text: 'Where is my parcel?' }, heldBecause: expect.any(Array) }),
      expect.objectContaining({ jobId: edited, decision: 'edit', heldOutput: second.output, editedOutput: { reply: 'It ships tomorrow.' } }),
    ]);
    expect((await troupeCli(['reviews', 'export'], undefined, { TROUPE_API_KEY: GLOBEX })).stdout).toBe('');

    const held = (await troupeCli(['submit'], JSON.stringify({ workflow: 'cli-reviewed', input: { text: 'Cancel me.' } }))).stdout.trim();
    await waitFor(async () => (await troupe.job(held, ADMIN)).body.status === 'awaiting_review');
    expect((await troupeCli(['jobs', 'cancel', held, '--reason', 'not needed'])).code).toBe(0);
    const cancelled = await troupeCli(['jobs', 'watch', held]);
    expect(cancelled.code).toBe(1);
    expect(cancelled.stdout).toContain('cancelled');
  });
});
