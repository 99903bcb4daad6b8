import { Injectable } from '@nestjs/common';
import {
  JOB_FAILED_V1,
  type JobCancelRequestedV1,
  type JobClassifiedV1,
  type JobRegenerateRequestedV1,
} from '@troupe/contracts';
import { markJobCancelled, type MessageContext } from '@troupe/messaging';
import { traceHeaders } from '@troupe/telemetry';
import { stepsToRerun, WorkflowGraphError, type WorkflowGraph } from '@troupe/workflow';
import { GenerationErrorCode } from '../generation/generation.exception';
import { GraphCache } from './graph-cache';
import { GraphProgress } from './graph-progress';
import type { JobRun, StepRow } from './job-run';
import { JobRunsRepository } from './job-runs.repository';
import { applyProgress, CANCEL_CHANNEL, runRecord, StepExecutor } from './step-executor';

/**
 * What generation's consumers do with a job's graph, in the consumer's chunk transaction: start it
 * (job.classified), run part of it again (the repair loop), cancel it. The steps themselves run in
 * the StepExecutor, started once the transaction has committed.
 */
@Injectable()
export class JobGraphsService {
  constructor(
    private readonly graphs: GraphCache,
    private readonly progress: GraphProgress,
    private readonly repo: JobRunsRepository,
    private readonly executor: StepExecutor,
  ) {}

  /** A classified job: record its run and schedule the steps that can start. */
  async begin(job: JobClassifiedV1, ctx: MessageContext): Promise<void> {
    const graph = this.graph(job, ctx);
    if (!graph) return;
    const run: JobRun = {
      jobId: job.jobId,
      tenantId: job.tenantId,
      job,
      graph,
      attempt: 1,
      traceHeaders: traceHeaders(),
      causationId: ctx.envelope.id,
      attemptStartedAt: new Date(),
      costUsd: 0,
    };
    await this.advance(run, new Map(), ctx);
  }

  /**
   * Validation sent the output back with its errors: the steps that produced the failing parts run
   * again (see `stepsToRerun`), told the errors; every other step keeps its output.
   */
  async rerun(request: JobRegenerateRequestedV1, ctx: MessageContext): Promise<void> {
    const { generation: failed, repair, ...job } = request;
    const graph = this.graph(job, ctx);
    if (!graph) return;
    await this.writes(ctx).flush(ctx.manager); // this chunk's own writes first: the run is read below
    const stored = (await this.repo.runs(ctx.manager, [job.jobId], true)).get(job.jobId);
    if (stored?.status === 'cancelled') return;
    const rows = stored ? (await this.repo.steps(ctx.manager, [job.jobId])).get(job.jobId)! : new Map<string, StepRow>();
    const last = repair.history[repair.history.length - 1];
    const again = stepsToRerun(graph, last.reasons.map((r) => r.path));
    const run: JobRun = {
      jobId: job.jobId,
      tenantId: job.tenantId,
      job,
      graph,
      attempt: repair.attempt,
      repair,
      previousErrors: last.reasons,
      traceHeaders: traceHeaders(),
      causationId: ctx.envelope.id,
      attemptStartedAt: new Date(),
      // The regenerate request carries the cost so far, for a run this store no longer has.
      costUsd: stored?.costUsd ?? failed.costUsd,
    };
    const writes = this.writes(ctx);
    for (const stepId of again) {
      // Without a stored run (purged, or started before steps existed) a step's run count is the attempt's.
      const row = rows.get(stepId) ?? { stepId, run: repair.attempt - 1, status: 'stale' as const, attempt: run.attempt };
      rows.set(stepId, { ...row, status: 'stale' });
      writes.step({ jobId: run.jobId, stepId, run: row.run, status: 'stale', attempt: row.attempt });
    }
    if (!stored) {
      // Steps outside the rerun set have no stored output either: run the whole graph.
      for (const step of graph.steps) if (!rows.has(step.id)) rows.set(step.id, { stepId: step.id, run: repair.attempt - 1, status: 'stale', attempt: run.attempt });
    }
    await this.advance(run, rows, ctx);
  }

  /**
   * A cancel request: this stage drops the job's later events (markJobCancelled), its run and
   * pending steps are marked cancelled, and every generation process aborts the job's calls in
   * flight when the transaction commits.
   */
  async cancel(request: JobCancelRequestedV1, ctx: MessageContext): Promise<void> {
    markJobCancelled(ctx, request.jobId);
    await this.writes(ctx).flush(ctx.manager);
    await this.repo.cancel(ctx.manager, request.jobId, CANCEL_CHANNEL);
  }

  private async advance(run: JobRun, rows: Map<string, StepRow>, ctx: MessageContext): Promise<void> {
    const writes = this.writes(ctx);
    writes.startRun(runRecord(run));
    const p = await this.progress.settle(run, rows, []);
    applyProgress(writes, run, p);
    for (const event of p.events) ctx.emit(event);
    if (p.start.length > 0) ctx.onCommit(() => this.executor.submit(p.start));
  }

  private writes(ctx: MessageContext) {
    return ctx.deferred('graph-writes', () => this.executor.writes());
  }

  /** The job's compiled graph; a snapshot that is not a valid graph fails the job with why. */
  private graph(job: JobClassifiedV1, ctx: MessageContext): WorkflowGraph | undefined {
    try {
      return this.graphs.get(job.workflow);
    } catch (error) {
      if (!(error instanceof WorkflowGraphError)) throw error;
      ctx.emit({
        type: JOB_FAILED_V1,
        data: {
          jobId: job.jobId,
          tenantId: job.tenantId,
          stage: 'generation',
          code: GenerationErrorCode.WORKFLOW_INVALID,
          reason: error.message,
          webhook: job.webhook,
          workflow: { id: job.workflow.id, version: job.workflow.version },
          metadata: job.metadata,
        },
      });
      return undefined;
    }
  }
}
