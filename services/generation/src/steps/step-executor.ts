import { randomUUID } from 'node:crypto';
import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { StepResult } from '@troupe/contracts';
import { appendToOutbox, backoffDelay, classifyError, PollingLoop, sleep, toOutboxRecord, type OutboxRecord } from '@troupe/messaging';
import { ModelError, ModelErrorKind } from '@troupe/models';
import { NotificationListener } from '@troupe/persistence';
import { LOGGER, SERVICE_CONFIG } from '@troupe/runtime';
import { contextFromHeaders, traceHeaders } from '@troupe/telemetry';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { GenerationErrorCode } from '../generation/generation.exception';
import type { GenerationConfig } from '../generation.config';
import { GraphCache } from './graph-cache';
import { GraphProgress, type Progress } from './graph-progress';
import { statesOf, type JobRun, type StepRow, type StepTask } from './job-run';
import { GraphWrites, JobRunsRepository, type RunRecord } from './job-runs.repository';
import { StepRunner } from './step-runner';

/** Every generation process LISTENs here; the payload is the id of a job just cancelled. */
export const CANCEL_CHANNEL = 'troupe_generation_cancel';

const tracer = trace.getTracer('@troupe/generation');

type AbortCause = 'cancel' | 'failed' | 'shutdown';

interface Running {
  task: StepTask;
  controller: AbortController;
  abortedFor?: AbortCause;
  done: Promise<void>;
}

interface Finished {
  task: StepTask;
  result: StepResult;
  /** The step span's context: the events the step leads to continue the job's trace from it. */
  trace: Record<string, string>;
}

/** The writes of one transaction, from a Progress. */
export function applyProgress(writes: GraphWrites, run: JobRun, p: Progress): void {
  for (const step of p.steps) writes.step(step);
  writes.total(run.jobId, { status: p.status, costUsd: p.costUsd });
  for (const attempt of p.attempts) writes.attempt(attempt);
}

/** The stored form of a run at the start of an attempt. */
export function runRecord(run: JobRun): RunRecord {
  return { ...run, status: 'running' };
}

/**
 * Runs the steps of jobs' graphs in this process, durably:
 * - a step starts from a row in `job_steps` leased to this executor, written by the transaction
 *   that made it ready (a consumer's, or the previous step's), right after that transaction commits;
 * - each finished step commits on its own: its result, the steps it makes ready (leased here, and
 *   started at once, no Kafka round trip), the job's outcome, and their events through the outbox;
 *   finished steps are committed together while a commit is in flight (group commit);
 * - leases are renewed while steps run; a step whose lease ran out (its process died) is taken
 *   over by any executor, so a crash resumes at the first unfinished step and never repeats a
 *   finished one;
 * - a cancelled job's steps are aborted in every process (NOTIFY on `troupe_generation_cancel`).
 */
@Injectable()
export class StepExecutor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly instanceId = randomUUID();
  readonly leaseMs: number;
  private readonly concurrency: number;
  private readonly waiting: StepTask[] = [];
  private readonly running = new Map<string, Running>();
  private readonly finished: Finished[] = [];
  private committing?: Promise<void>;
  private stopping = false;
  private readonly reclaim: PollingLoop;
  private heartbeat?: NodeJS.Timeout;
  private readonly listener: NotificationListener;
  private lastPurge = 0;
  /** Workflow snapshots this process has stored (each distinct one is written once). */
  private readonly storedSnapshots = new Set<string>();
  /** Consumers waiting for room (see `wait`). */
  private readonly roomWaiters: (() => void)[] = [];

  constructor(
    private readonly runner: StepRunner,
    private readonly progress: GraphProgress,
    private readonly repo: JobRunsRepository,
    private readonly graphs: GraphCache,
    private readonly dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: GenerationConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.leaseMs = config.TROUPE_STEP_LEASE_MS;
    this.concurrency = config.TROUPE_STEP_CONCURRENCY;
    this.reclaim = new PollingLoop({
      pass: () => this.reclaimPass(),
      idleMs: Math.max(500, Math.floor(this.leaseMs / 3)),
      onError: (err, failures) => this.logger.warn({ err, failures }, 'step executor: taking over expired steps failed; retrying'),
    });
    this.listener = new NotificationListener({
      url: config.DATABASE_URL,
      channels: [CANCEL_CHANNEL],
      onNotification: (_channel, jobId) => this.abortJob(jobId, 'cancel'),
      onError: (err) => this.logger.warn({ err }, 'step executor: LISTEN connection lost; reconnecting'),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.listener.start();
    this.reclaim.start();
    this.heartbeat = setInterval(() => void this.renew(), Math.max(300, Math.floor(this.leaseMs / 3)));
    this.heartbeat.unref();
  }

  /** Stops taking work, aborts the steps in flight, records what finished, and lets go of the rest for another executor. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const release of this.roomWaiters.splice(0)) release(); // a consumer waiting at the gate moves on to its shutdown
    await this.reclaim.stop();
    clearInterval(this.heartbeat);
    this.waiting.length = 0;
    for (const r of this.running.values()) this.abort(r, 'shutdown');
    await Promise.all([...this.running.values()].map((r) => r.done));
    while (this.committing) await this.committing;
    await this.repo.releaseLeases(this.instanceId).catch((err) => this.logger.warn({ err }, 'step executor: releasing leases failed'));
    await this.listener.stop();
  }

  /** A batch for one transaction's graph writes; pending steps are leased to this executor. */
  writes(): GraphWrites {
    return new GraphWrites(this.instanceId, this.leaseMs, this.storedSnapshots);
  }

  /** Starts steps whose rows (leased here) were just committed. */
  submit(tasks: StepTask[]): void {
    if (tasks.length === 0) return;
    if (this.stopping) {
      // Written after the shutdown began: let another executor have them now rather than at lease expiry.
      void this.repo.releaseLeases(this.instanceId).catch(() => undefined);
      return;
    }
    this.waiting.push(...tasks);
    this.pump();
  }

  /** Aborts a job's steps in flight here and drops its waiting ones. */
  abortJob(jobId: string, cause: AbortCause): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) if (this.waiting[i].run.jobId === jobId) this.waiting.splice(i, 1);
    for (const r of this.running.values()) if (r.task.run.jobId === jobId) this.abort(r, cause);
  }

  /**
   * The consumers' gate: resolves while fewer steps wait than four times the concurrency, so a
   * backlog stays in Kafka rather than in this process's memory.
   */
  wait(): Promise<void> {
    if (this.waiting.length < this.concurrency * 4) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** How many steps this process runs or holds now (tests, metrics). */
  load(): { running: number; waiting: number; committing: number } {
    return { running: this.running.size, waiting: this.waiting.length, committing: this.finished.length };
  }

  private abort(r: Running, cause: AbortCause): void {
    if (r.abortedFor) return;
    r.abortedFor = cause;
    const why = { cancel: 'the job was cancelled', failed: 'another step of the job failed', shutdown: 'the service is shutting down' }[cause];
    r.controller.abort(new ModelError(ModelErrorKind.CANCELLED, why));
  }

  private pump(): void {
    while (!this.stopping && this.running.size < this.concurrency && this.waiting.length > 0) this.execute(this.waiting.shift()!);
    while (this.roomWaiters.length > 0 && (this.stopping || this.waiting.length < this.concurrency * 4)) this.roomWaiters.shift()!();
  }

  private execute(task: StepTask): void {
    const key = `${task.run.jobId}/${task.step.id}`;
    const controller = new AbortController();
    const entry = { task, controller } as Running;
    entry.done = (async () => {
      let finished: Finished;
      try {
        finished = await context.with(contextFromHeaders(task.run.traceHeaders), () => this.traced(task, controller.signal));
      } catch (error) {
        // The runner reports the step's own failures; an exception here is a defect, recorded as a failure.
        this.logger.error({ err: error, jobId: task.run.jobId, step: task.step.id }, 'step executor: a step crashed');
        finished = { task, result: crashed(task, error), trace: task.run.traceHeaders };
      } finally {
        this.running.delete(key);
      }
      // Not recorded: its lease is let go, and another executor runs it again.
      if (entry.abortedFor !== 'shutdown') {
        this.finished.push(finished);
        this.kickCommit();
      }
      this.pump();
    })();
    this.running.set(key, entry);
  }

  private traced(task: StepTask, signal: AbortSignal): Promise<Finished> {
    return tracer.startActiveSpan(
      `step ${task.step.id}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          'troupe.job.id': task.run.jobId,
          'troupe.tenant.id': task.run.tenantId,
          'troupe.step.id': task.step.id,
          'troupe.step.kind': task.step.kind,
          'troupe.step.run': task.stepRun,
        },
      },
      async (span) => {
        try {
          const result = await this.runner.run(task, signal);
          span.setAttribute('troupe.step.status', result.status);
          if (result.status === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: result.reason });
          return { task, result, trace: traceHeaders() };
        } finally {
          span.end();
        }
      },
    );
  }

  private kickCommit(): void {
    if (this.committing) return;
    this.committing = this.commitLoop().finally(() => {
      this.committing = undefined;
      if (this.finished.length > 0) this.kickCommit();
    });
  }

  /** Commits finished steps, as many together as have finished meanwhile. */
  private async commitLoop(): Promise<void> {
    let outages = 0;
    while (this.finished.length > 0) {
      const batch = this.finished.splice(0, 500);
      try {
        this.afterCommit(await this.complete(batch));
        outages = 0;
      } catch (error) {
        if (classifyError(error) === 'infrastructure') {
          outages++;
          this.logger.warn({ err: error, outages }, 'step executor: database unavailable; will record the finished steps when it returns');
          this.finished.unshift(...batch);
          // Leases keep being renewed meanwhile; if this process stops, the steps are run again elsewhere.
          await sleep(backoffDelay(outages, 500, 10_000));
          if (this.stopping && outages > 3) {
            this.finished.length = 0;
            return;
          }
          continue;
        }
        // Isolate what cannot be recorded: the others commit on their own.
        for (const one of batch) await this.completeAlone(one, error);
      }
    }
  }

  private async completeAlone(one: Finished, firstError: unknown): Promise<void> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        this.afterCommit(await this.complete([one]));
        return;
      } catch (error) {
        firstError = error;
        if (classifyError(error) === 'infrastructure') break;
        await sleep(backoffDelay(attempt));
      }
    }
    // A defect or a poison result: fail the job with the reason rather than retry it forever.
    this.logger.error({ err: firstError, jobId: one.task.run.jobId, step: one.task.step.id }, 'step executor: cannot record a step; failing its job');
    try {
      const result = crashed(one.task, firstError, GenerationErrorCode.STEP_RECORD_FAILED, one.result);
      this.afterCommit(await this.complete([{ ...one, result: { ...result, output: undefined } }]));
    } catch (error) {
      this.logger.error({ err: error, jobId: one.task.run.jobId }, 'step executor: cannot fail the job either; its lease will expire and it is retried');
    }
  }

  /** What a committed batch leads to: the steps it made ready start, the failed jobs' other steps stop. */
  private afterCommit({ start, failedJobs }: { start: StepTask[]; failedJobs: string[] }): void {
    for (const jobId of failedJobs) this.abortJob(jobId, 'failed');
    this.submit(start);
  }

  /** One transaction: record finished steps, decide what follows for each job, write and emit it. */
  private async complete(batch: Finished[]): Promise<{ start: StepTask[]; failedJobs: string[] }> {
    return this.dataSource.transaction(async (manager) => {
      const jobIds = [...new Set(batch.map((f) => f.task.run.jobId))].sort();
      const { runs, recorded } = await this.repo.finish(
        manager,
        this.instanceId,
        batch.map((f) => ({
          jobId: f.task.run.jobId,
          stepId: f.task.step.id,
          run: f.task.stepRun,
          result: f.result,
          keep: f.task.run.graph.steps.length > 1,
        })),
      );
      const multi = jobIds.filter((id) => batch.find((f) => f.task.run.jobId === id)!.task.run.graph.steps.length > 1);
      const stored = await this.repo.steps(manager, multi);
      const writes = this.writes();
      const records: OutboxRecord[] = [];
      const start: StepTask[] = [];
      const failedJobs: string[] = [];
      for (const jobId of jobIds) {
        const items = batch.filter((f) => f.task.run.jobId === jobId);
        const mine = items.filter((f) => recorded.has(`${jobId}/${f.task.step.id}`));
        const state = runs.get(jobId);
        // Calls made for results that no longer count (cancelled, taken over) were paid all the same.
        const lost = items.filter((f) => !mine.includes(f));
        for (const f of lost) {
          for (const a of this.progress.attemptsOf(f.task.run, f.result)) writes.attempt(a);
          writes.total(jobId, { costUsd: f.result.costUsd });
        }
        if (!state || state.status !== 'running' || mine.length === 0) continue;
        const run: JobRun = { ...items[0].task.run, costUsd: state.costUsd };
        const rows: Map<string, StepRow> =
          stored.get(jobId) ??
          new Map(mine.map((f) => [f.task.step.id, { stepId: f.task.step.id, run: f.task.stepRun, status: f.result.status, attempt: run.attempt, output: f.result.output, result: f.result }]));
        const p = await this.progress.settle(run, rows, mine.map((f) => f.result));
        applyProgress(writes, run, p);
        const trace = mine[mine.length - 1].trace;
        context.with(contextFromHeaders(trace), () => {
          for (const event of p.events) records.push(toOutboxRecord(event, { service: 'generation', correlationId: jobId, causationId: run.causationId }));
        });
        start.push(...p.start);
        if (p.abortOthers) failedJobs.push(jobId);
      }
      await writes.flush(manager);
      await appendToOutbox(manager, records);
      return { start, failedJobs };
    });
  }

  /** Takes over pending steps whose executor stopped renewing their lease. */
  private async reclaimPass(): Promise<boolean> {
    await this.purgeIfDue();
    const free = Math.min(100, this.concurrency - this.running.size - this.waiting.length);
    if (free <= 0 || this.stopping) return false;
    const claimed = await this.repo.claimExpired(this.instanceId, this.leaseMs, free);
    if (claimed.length === 0) return false;
    const jobIds = [...new Set(claimed.map((c) => c.jobId))];
    const [runs, steps] = await Promise.all([this.repo.runs(this.dataSource.manager, jobIds), this.repo.steps(this.dataSource.manager, jobIds)]);
    const tasks: StepTask[] = [];
    for (const c of claimed) {
      const stored = runs.get(c.jobId);
      const rows = steps.get(c.jobId) ?? new Map<string, StepRow>();
      if (!stored || stored.status !== 'running') continue; // recorded as lost when it finishes
      const graph = this.graphs.get(stored.job.workflow);
      const step = graph.byId.get(c.stepId);
      if (!step) continue;
      const run: JobRun = { ...stored, graph };
      tasks.push({ run, step, stepRun: c.run, states: statesOf(rows.values()) });
    }
    this.logger.info({ steps: claimed.map((c) => `${c.jobId}/${c.stepId}`) }, 'step executor: taking over steps whose executor stopped');
    this.submit(tasks);
    return claimed.length >= free;
  }

  private async renew(): Promise<void> {
    if (this.running.size + this.waiting.length + this.finished.length === 0 && !this.committing) return;
    await this.repo.renewLeases(this.instanceId, this.leaseMs).catch((err) => this.logger.warn({ err }, 'step executor: renewing leases failed'));
  }

  private async purgeIfDue(): Promise<void> {
    if (Date.now() - this.lastPurge < 10 * 60_000) return;
    this.lastPurge = Date.now();
    await this.repo.purge(this.config.TROUPE_STEP_STATE_RETENTION_HOURS * 3600_000);
  }
}

/** A step that could not run or be recorded: a failure with the reason. */
function crashed(task: StepTask, error: unknown, code = GenerationErrorCode.STEP_CRASHED, ran?: StepResult): StepResult {
  return {
    id: task.step.id,
    kind: task.step.kind,
    run: task.stepRun,
    status: 'failed',
    code,
    reason: (error as Error)?.message ?? String(error),
    latencyMs: ran?.latencyMs ?? 0,
    costUsd: ran?.costUsd ?? 0,
    attempts: ran?.attempts ?? [],
    decisions: ran?.decisions ?? [],
  };
}
