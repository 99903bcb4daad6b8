#!/usr/bin/env node
// The Troupe CLI: the public API from a terminal. TROUPE_API_URL (default http://127.0.0.1:3000)
// and TROUPE_API_KEY say where and who. Exit codes: 0 ok; 1 the job ended without succeeding (or
// an unexpected error); 2 usage or a 4xx answer; 3 intake unreachable or 5xx; 4 --wait timed out.
// `replay start --wait` exits 0 once the report is complete, whatever the shadow jobs' verdicts.
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';

export const EXIT = { OK: 0, JOB_NOT_SUCCEEDED: 1, CLIENT_ERROR: 2, SERVER_UNAVAILABLE: 3, TIMEOUT: 4 };
const ENDED = new Set(['delivered', 'delivery_failed', 'failed', 'rejected', 'cancelled']);

class CliError extends Error {
  constructor(message, exitCode) {
    super(message);
    this.exitCode = exitCode;
  }
}

const base = () => (process.env.TROUPE_API_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');

/** GET a non-JSON body (JSONL), with call()'s errors. */
async function callText(method, path) {
  const key = process.env.TROUPE_API_KEY;
  if (!key) throw new CliError('TROUPE_API_KEY is not set', EXIT.CLIENT_ERROR);
  let response;
  try {
    response = await fetch(`${base()}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
  } catch (error) {
    throw new CliError(`cannot reach ${base()}: ${error.cause?.code ?? error.message}`, EXIT.SERVER_UNAVAILABLE);
  }
  const text = await response.text();
  if (!response.ok) throw new CliError(`${method} ${path}: ${response.status} ${text}`, response.status >= 500 ? EXIT.SERVER_UNAVAILABLE : EXIT.CLIENT_ERROR);
  return text;
}

async function call(method, path, body, headers = {}) {
  const key = process.env.TROUPE_API_KEY;
  if (!key) throw new CliError('TROUPE_API_KEY is not set', EXIT.CLIENT_ERROR);
  let response;
  try {
    response = await fetch(`${base()}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (error) {
    throw new CliError(`cannot reach ${base()}: ${error.cause?.code ?? error.message}`, EXIT.SERVER_UNAVAILABLE);
  }
  const text = await response.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const e = parsed?.error ?? {};
    const details = (e.details ?? []).map((d) => `\n  ${d.path || '(root)'}: ${d.message}`).join('');
    throw new CliError(
      `${method} ${path}: ${response.status} ${e.code ?? ''} ${e.message ?? text}${details}`.trim(),
      response.status >= 500 ? EXIT.SERVER_UNAVAILABLE : EXIT.CLIENT_ERROR,
    );
  }
  return parsed;
}

const qs = (params) => {
  const s = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== false).map(([k, v]) => [k, String(v)])).toString();
  return s ? `?${s}` : '';
};

/** A plain table: columns as wide as their widest cell. */
function table(rows, columns) {
  const cells = rows.map((r) => columns.map(([, get]) => String(get(r) ?? '—')));
  const widths = columns.map(([title], i) => Math.max(title.length, ...cells.map((c) => c[i].length)));
  const line = (values) => values.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns.map(([t]) => t.toUpperCase())), ...cells.map(line)].join('\n');
}

const usd = (n) => (n === undefined || n === null ? '—' : `$${Number(n).toFixed(6)}`);
const positiveInt = (v) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('a positive integer');
  return n;
};

function readInput(file) {
  const text = file === '-' || file === undefined ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file ?? 'stdin'} is not JSON: ${error.message}`, EXIT.CLIENT_ERROR);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls the job until it ends; prints each timeline entry once as it appears (one line per stage or step). */
async function follow(id, { json, timeoutSeconds, quiet }) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const seen = new Set();
  let delay = 250;
  for (;;) {
    const job = await call('GET', `/v1/jobs/${id}`);
    for (const entry of job.timeline ?? []) {
      if (seen.has(entry.eventId)) continue;
      seen.add(entry.eventId);
      if (!quiet && !json) process.stderr.write(`${entry.time.slice(11, 23)}  ${entry.source.replace(/^troupe\//, '').padEnd(14)} ${entry.summary}\n`);
    }
    if (ENDED.has(job.status)) return job;
    if (Date.now() > deadline) throw new CliError(`job ${id} still ${job.status} after ${timeoutSeconds} s`, EXIT.TIMEOUT);
    await sleep(delay);
    delay = Math.min(delay * 1.5, 2000);
  }
}

function printJob(job, json) {
  if (json) return console.log(JSON.stringify(job, null, 2));
  console.log(`${job.id}  ${job.workflow.id} v${job.workflow.version}  ${job.status}${job.outcome ? ` (${job.outcome})` : ''}  ${usd(job.costUsd)}`);
  if (job.result !== undefined) console.log(JSON.stringify(job.result, null, 2));
  for (const e of job.errors ?? []) console.log(`error ${e.code}${e.path ? ` at ${e.path}` : ''}: ${e.message}`);
}

let lastCode = EXIT.OK;
/** An action whose resolved value is the process's exit code. */
const act = (fn) => async (...args) => {
  lastCode = await fn(...args);
};

const jobExit = (job) => (job.outcome === 'succeeded' && job.status !== 'delivery_failed' ? EXIT.OK : EXIT.JOB_NOT_SUCCEEDED);

export function program() {
  const cli = new Command('troupe')
    .description('Troupe from the command line (TROUPE_API_URL, TROUPE_API_KEY)')
    .option('--json', 'machine-readable JSON on stdout')
    .showHelpAfterError()
    .exitOverride();
  const json = () => Boolean(cli.opts().json);

  cli
    .command('submit')
    .description('submit a job: a JSON request body ({workflow, input, ...}) from a file or stdin')
    .argument('[file]', 'the request body; - or none for stdin')
    .option('--idempotency-key <key>', 'the Idempotency-Key header')
    .option('--wait', 'follow the job, a line per stage, until it ends (exit 1 unless it succeeded)')
    .option('--timeout <seconds>', 'how long --wait waits', positiveInt, 300)
    .action(act(async (file, opts) => {
      const body = readInput(file);
      const created = await call('POST', '/v1/jobs', body, opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {});
      if (!opts.wait) {
        if (json()) console.log(JSON.stringify(created, null, 2));
        else console.log(created.id);
        return EXIT.OK;
      }
      if (!json()) process.stderr.write(`job ${created.id}\n`);
      const job = await follow(created.id, { json: json(), timeoutSeconds: opts.timeout });
      printJob(job, json());
      return jobExit(job);
    }));

  const jobs = cli.command('jobs').description('list, show, follow and cancel jobs');
  jobs
    .command('list')
    .option('--status <status>')
    .option('--workflow <id>')
    .option('--label <label>')
    .option('--from <iso>', 'created at or after')
    .option('--to <iso>', 'created before')
    .option('--search <idOrKey>', 'a job id or idempotency key')
    .option('--limit <n>', 'at most n', positiveInt, 20)
    .action(act(async (o) => {
      const page = await call('GET', `/v1/jobs${qs({ status: o.status, workflow: o.workflow, label: o.label, from: o.from, to: o.to, q: o.search, limit: o.limit })}`);
      if (json()) console.log(JSON.stringify(page, null, 2));
      else
        console.log(
          table(page.items, [
            ['id', (j) => j.id],
            ['workflow', (j) => `${j.workflow.id} v${j.workflow.version}`],
            ['label', (j) => j.label],
            ['status', (j) => j.status],
            ['cost', (j) => usd(j.costUsd)],
            ['created', (j) => j.createdAt],
          ]),
        );
      return EXIT.OK;
    }));
  jobs
    .command('get')
    .argument('<id>')
    .action(act(async (id) => {
      const job = await call('GET', `/v1/jobs/${id}`);
      if (json()) console.log(JSON.stringify(job, null, 2));
      else {
        printJob(job, false);
        for (const e of job.timeline ?? []) console.log(`  ${e.time}  ${e.source.replace(/^troupe\//, '').padEnd(14)} ${e.summary}`);
      }
      return EXIT.OK;
    }));
  jobs
    .command('watch')
    .argument('<id>')
    .option('--timeout <seconds>', 'how long to wait', positiveInt, 300)
    .description('follow a job until it ends (exit 1 unless it succeeded)')
    .action(act(async (id, o) => {
      const job = await follow(id, { json: json(), timeoutSeconds: o.timeout });
      printJob(job, json());
      return jobExit(job);
    }));
  jobs
    .command('cancel')
    .argument('<id>')
    .option('--reason <text>')
    .action(act(async (id, o) => {
      const r = await call('POST', `/v1/jobs/${id}/cancel`, o.reason ? { reason: o.reason } : {});
      console.log(json() ? JSON.stringify(r, null, 2) : `${r.id} ${r.status}`);
      return EXIT.OK;
    }));

  const reviews = cli.command('reviews').description('the review queue (reviewer or admin keys)');
  reviews
    .command('list')
    .option('--status <status>', 'pending (default), escalated, decided, expired, cancelled or all')
    .action(act(async (o) => {
      const page = await call('GET', `/v1/reviews${qs({ status: o.status })}`);
      if (json()) console.log(JSON.stringify(page, null, 2));
      else
        console.log(
          table(page.items, [
            ['id', (r) => r.id],
            ['job', (r) => r.jobId],
            ['workflow', (r) => r.workflow.id],
            ['label', (r) => r.label],
            ['held because', (r) => r.heldBecause.join('; ')],
            ['due', (r) => r.dueAt],
          ]),
        );
      return EXIT.OK;
    }));
  const decide = (decision) => async (id, o) => {
    const body = { decision };
    if (o.comment) body.comment = o.comment;
    if (o.output) body.output = readInput(o.output);
    if (body.output !== undefined) body.decision = 'edit';
    const r = await call('POST', `/v1/reviews/${id}/decision`, body);
    console.log(json() ? JSON.stringify(r, null, 2) : `${id} ${body.decision}`);
    return EXIT.OK;
  };
  reviews.command('approve').argument('<id>').option('--comment <text>').option('--output <file>', 'approve an edited output (JSON file, - for stdin)').action(act(decide('approve')));
  reviews.command('reject').argument('<id>').option('--comment <text>').action(act(decide('reject')));

  reviews
    .command('export')
    .description('decided reviews as JSONL (input, held output, decision, edited output, reasons): an evaluation dataset')
    .option('--from <iso>', 'decided at or after')
    .option('--to <iso>', 'decided before')
    .option('--workflow <id>')
    .option('--limit <n>', 'at most n', positiveInt, 1000)
    .action(async (o) => {
      const examples = await callText('GET', `/v1/reviews/export${qs({ from: o.from, to: o.to, workflow: o.workflow, limit: o.limit })}`);
      process.stdout.write(examples);
      return EXIT.OK;
    });

  const dlq = cli.command('dlq').description('dead letters (admin keys)');
  dlq
    .command('list')
    .addOption(new Option('--stage <stage>').choices(['intake', 'classification', 'generation', 'validation', 'delivery']))
    .option('--code <CODE>')
    .option('--pending', 'only letters never replayed')
    .option('--limit <n>', 'at most n', positiveInt, 50)
    .action(act(async (o) => {
      const page = await call('GET', `/v1/admin/dead-letters${qs({ stage: o.stage, code: o.code, pending: o.pending ? 'true' : undefined, limit: o.limit })}`);
      if (json()) console.log(JSON.stringify(page, null, 2));
      else
        console.log(
          table(page.items, [
            ['id', (d) => d.id],
            ['stage', (d) => d.stage],
            ['code', (d) => d.code],
            ['job', (d) => d.jobId],
            ['replays', (d) => d.replayCount],
            ['reason', (d) => d.reason.slice(0, 80)],
          ]),
        );
      return EXIT.OK;
    }));
  dlq
    .command('show')
    .argument('<id>')
    .action(act(async (id) => {
      console.log(JSON.stringify(await call('GET', `/v1/admin/dead-letters/${encodeURIComponent(id)}`), null, 2));
      return EXIT.OK;
    }));
  dlq
    .command('replay')
    .argument('<ids...>')
    .action(act(async (ids) => {
      const results = [];
      for (const id of ids) results.push(await call('POST', `/v1/admin/dead-letters/${encodeURIComponent(id)}/replay`));
      if (json()) console.log(JSON.stringify(results, null, 2));
      else for (const r of results) console.log(`${r.id} replayed to ${r.replayedTo} (replay ${r.replayCount})`);
      return EXIT.OK;
    }));
  const replay = cli.command('replay').description('re-run past jobs as shadow jobs on another version, model or prompt, and compare');
  replay
    .command('start')
    .description('start a replay of past jobs (admin keys): --job ids, or a window of one --workflow')
    .option('--job <id...>', 'past jobs by id')
    .option('--workflow <id>', 'a window of this workflow’s jobs')
    .option('--from <iso>', 'created at or after')
    .option('--to <iso>', 'created before')
    .option('--label <label>')
    .option('--status <status>', 'default: every finished job')
    .option('--limit <n>', 'at most n jobs', positiveInt, 100)
    .option('--target-version <n>', 'run on this version of the workflow', positiveInt)
    .option('--model <provider/model>', 'every model step calls this model')
    .option('--instructions <file>', 'every model step uses these instructions (a text file, - for stdin)')
    .option('--prompt-version <n>', 'the version recorded with --instructions', positiveInt)
    .option('--step <id...>', 'apply --model and --instructions to these steps only')
    .option('--references <file>', 'reference answers: JSONL from `troupe reviews export`, or {jobId, output} lines')
    .option('--charge-budget', 'reserve the shadow jobs’ cost against the budgets like any job')
    .option('--wait', 'wait until every shadow job has finished, then print the report')
    .option('--timeout <seconds>', 'how long --wait waits', positiveInt, 600)
    .action(act(async (o) => {
      if (!o.job === !o.workflow) throw new CliError('name either --job ids or a --workflow window', EXIT.CLIENT_ERROR);
      if (o.instructions && !o.promptVersion) throw new CliError('--instructions needs --prompt-version', EXIT.CLIENT_ERROR);
      const target = { workflowVersion: o.targetVersion, model: o.model, steps: o.step };
      if (o.instructions) target.prompt = { instructions: readFileSync(o.instructions === '-' ? 0 : o.instructions, 'utf8').trim(), version: o.promptVersion };
      const body = {
        ...(o.job ? { jobs: o.job } : { window: { workflow: o.workflow, from: o.from, to: o.to, label: o.label, status: o.status, limit: o.limit } }),
        target,
        chargeBudget: Boolean(o.chargeBudget),
        ...(o.references ? { references: readReferences(o.references) } : {}),
      };
      const created = await call('POST', '/v1/replays', body);
      if (!o.wait) {
        console.log(json() ? JSON.stringify(created, null, 2) : created.id);
        return EXIT.OK;
      }
      if (!json()) process.stderr.write(`replay ${created.id}: ${created.jobs} shadow jobs${created.skipped.length ? `, ${created.skipped.length} skipped` : ''}\n`);
      const report = await followReplay(created.id, { json: json(), timeoutSeconds: o.timeout });
      printReport(report, json());
      return EXIT.OK;
    }));
  replay
    .command('list')
    .action(act(async () => {
      const page = await call('GET', '/v1/replays');
      if (json()) console.log(JSON.stringify(page, null, 2));
      else
        console.log(
          table(page.items, [
            ['id', (r) => r.id],
            ['workflow', (r) => r.workflow.id],
            ['target', (r) => describeTarget(r.target)],
            ['jobs', (r) => r.jobs],
            ['status', (r) => r.status],
            ['created', (r) => r.createdAt],
          ]),
        );
      return EXIT.OK;
    }));
  replay
    .command('get')
    .argument('<id>')
    .description('a replay’s report')
    .action(act(async (id) => {
      printReport(await call('GET', `/v1/replays/${id}`), json());
      return EXIT.OK;
    }));
  return cli;
}

/** Reference answers from a JSONL file: `troupe reviews export` lines (the edit, else the approved output) or {jobId, output}. */
function readReferences(file) {
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  const references = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let row;
    try {
      row = JSON.parse(line);
    } catch (error) {
      throw new CliError(`${file} line ${i + 1} is not JSON: ${error.message}`, EXIT.CLIENT_ERROR);
    }
    if ('output' in row) references.push({ jobId: row.jobId, output: row.output });
    else if (row.decision === 'edit') references.push({ jobId: row.jobId, output: row.editedOutput });
    else if (row.decision === 'approve') references.push({ jobId: row.jobId, output: row.heldOutput });
  });
  return references;
}

const describeTarget = (t) =>
  [t.workflowVersion && `v${t.workflowVersion}`, t.model, t.prompt && `prompt v${t.prompt.version}`, t.steps && `steps ${t.steps.join(',')}`].filter(Boolean).join(' ');

/** Polls the report until every shadow job has finished; a progress line on stderr when the count moves. */
async function followReplay(id, { json, timeoutSeconds }) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let delay = 500;
  let shown = -1;
  for (;;) {
    const report = await call('GET', `/v1/replays/${id}`);
    if (!json && report.aggregate.finished !== shown) {
      shown = report.aggregate.finished;
      process.stderr.write(`${new Date().toISOString().slice(11, 23)}  ${shown}/${report.jobs} shadow jobs finished\n`);
    }
    if (report.status === 'completed') return report;
    if (Date.now() > deadline) throw new CliError(`replay ${id} still running after ${timeoutSeconds} s`, EXIT.TIMEOUT);
    await sleep(delay);
    delay = Math.min(delay * 1.5, 3000);
  }
}

function printReport(report, json) {
  if (json) return console.log(JSON.stringify(report, null, 2));
  const a = report.aggregate;
  const pct = (n) => (n === null || n === undefined ? '—' : `${(n * 100).toFixed(1)}%`);
  const ms = (l) => `p50 ${l.p50 ?? '—'} ms, p95 ${l.p95 ?? '—'} ms`;
  const verdicts = (v) => Object.entries(v).map(([k, n]) => `${k} ${n}`).join(', ') || '—';
  console.log(`replay ${report.id}  ${report.workflow.id} on ${describeTarget(report.target)}  ${report.status}  ${a.finished}/${a.jobs} finished`);
  console.log(`cost       original ${usd(a.costUsd.original)}  shadow ${usd(a.costUsd.shadow)}  delta ${usd(a.costUsd.delta)}`);
  console.log(`latency    original ${ms(a.latencyMs.original)}  shadow ${ms(a.latencyMs.shadow)}`);
  console.log(`verdicts   original ${verdicts(a.verdicts.original)}  shadow ${verdicts(a.verdicts.shadow)}  changed ${a.verdicts.changed}`);
  console.log(`outputs    ${a.outputs.exact}/${a.outputs.compared} identical, mean similarity ${pct(a.outputs.meanSimilarity)}`);
  if (a.references.compared > 0) console.log(`references ${a.references.exact}/${a.references.compared} identical, mean similarity ${pct(a.references.meanSimilarity)}`);
  console.log(
    table(report.comparisons, [
      ['original', (c) => c.original.jobId],
      ['shadow', (c) => c.shadow.jobId],
      ['verdict', (c) => (c.verdictChanged ? `${c.original.verdict} → ${c.shadow.verdict}` : c.shadow.verdict)],
      ['similarity', (c) => (c.output ? pct(c.output.similarity) : '—')],
      ['cost delta', (c) => usd(c.costDeltaUsd)],
    ]),
  );
}

async function main() {
  let code = EXIT.OK;
  const cli = program();
  // Each action returns its exit code; commander's own errors (usage) exit 2.
  try {
    await cli.parseAsync(process.argv, { from: 'node' });
    code = lastCode;
  } catch (error) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') code = EXIT.OK;
    else if (typeof error.code === 'string' && error.code.startsWith('commander.')) code = EXIT.CLIENT_ERROR;
    else if (error instanceof CliError) {
      console.error(`troupe: ${error.message}`);
      code = error.exitCode;
    } else {
      console.error(`troupe: ${error.stack ?? error}`);
      code = EXIT.JOB_NOT_SUCCEEDED;
    }
  }
  process.exitCode = code;
}

main();
