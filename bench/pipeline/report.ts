/** What every benchmark prints and needs around its figures: quantiles, the commit measured, the database server. */
import { execFileSync } from 'node:child_process';
import { Client } from 'pg';
import { repoRoot } from '@troupe/testing';
import { round } from './cpu';

/** p50 / p95 / p99 / max of a sample, to 0.1. */
export const quantiles = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? round(s[Math.min(s.length - 1, Math.floor(p * s.length))], 1) : null);
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: s.length ? round(s[s.length - 1], 1) : null };
};

/** The commit measured, and whether tracked files differed from it. */
export function commitStamp(): { commit: string; dirty: boolean } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot }).toString().trim();
  try {
    return { commit: git('rev-parse', '--short=12', 'HEAD'), dirty: git('status', '--porcelain', '--untracked-files=no') !== '' };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

/** Runs work on DATABASE_URL's server, connected to its `postgres` database (to create and drop benchmark databases). */
export async function onDatabaseServer(work: (client: Client) => Promise<unknown>): Promise<void> {
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/troupe');
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
