import { randomUUID } from 'node:crypto';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import {
  VerdictSchema,
  type CreateReplayRequest,
  type ReplayAggregate,
  type ReplayComparison,
  type ReplayList,
  type ReplayReport,
  type ReplaySide,
  type ReplayView,
  type Verdict,
  type WorkflowSnapshot,
} from '@troupe/contracts';
import type { Principal } from '../auth/api-keys';
import { CostBound } from '../budgets/cost-bound';
import { picoUsd, toPico } from '../budgets/money';
import { IntakeErrorCode, IntakeException } from '../http/intake.exception';
import { JobsRepository } from '../jobs/jobs.repository';
import { budgetExceeded, JobsService } from '../jobs/jobs.service';
import { WorkflowRegistry } from '../workflows/workflow-registry';
import { compareOutputs } from './output-comparison';
import { ReplaysRepository, type ComparedJob, type OriginalJob, type ReplayRow } from './replays.repository';
import { modelStepIds, shadowWorkflow } from './shadow-workflow';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Replays (docs/replay.md): past jobs re-run as shadow jobs on another workflow version, model or
 * prompt, and the report comparing each shadow with its original. Shadow jobs go through every
 * stage, are delivered nowhere and reserve against no budget unless the replay asks.
 */
@Injectable()
export class ReplaysService {
  constructor(
    private readonly replays: ReplaysRepository,
    private readonly jobs: JobsRepository,
    private readonly jobsService: JobsService,
    @Inject(WorkflowRegistry) private readonly workflows: WorkflowRegistry,
    @Inject(CostBound) private readonly bound: CostBound,
  ) {}

  async create(principal: Principal, request: CreateReplayRequest): Promise<ReplayView> {
    const originals = request.jobs
      ? await this.replays.originalsById(principal.tenantId, request.jobs)
      : await this.replays.originalsInWindow(principal.tenantId, request.window!);
    if (request.jobs) {
      const found = new Set(originals.map((o) => o.id));
      const missing = [...new Set(request.jobs)].filter((id) => !found.has(id));
      if (missing.length > 0) {
        throw new IntakeException(IntakeErrorCode.JOB_NOT_FOUND, HttpStatus.NOT_FOUND, `no job ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` (and ${missing.length - 5} more)` : ''}`);
      }
    }
    if (originals.length === 0) {
      throw new IntakeException(IntakeErrorCode.REPLAY_NO_JOBS, HttpStatus.UNPROCESSABLE_ENTITY, 'no finished job of the tenant matches the window');
    }
    const workflowIds = [...new Set(originals.map((o) => o.workflow_id))];
    if (workflowIds.length > 1) {
      throw new IntakeException(
        IntakeErrorCode.REPLAY_MIXED_WORKFLOWS,
        HttpStatus.UNPROCESSABLE_ENTITY,
        `a replay re-runs jobs of one workflow; these ran ${workflowIds.join(', ')}`,
      );
    }
    const workflowId = workflowIds[0];
    const { target } = request;
    if (target.model && !this.bound.knows(target.model)) {
      throw new IntakeException(IntakeErrorCode.UNKNOWN_MODEL, HttpStatus.UNPROCESSABLE_ENTITY, `the model catalogue has no ${target.model}`, [
        { path: 'target.model', message: 'not in the model catalogue' },
      ]);
    }
    // One shadow workflow per version the shadows run on (the target version, or each original's).
    const snapshots = new Map<number, WorkflowSnapshot>();
    const snapshotFor = (version: number): WorkflowSnapshot => {
      let snapshot = snapshots.get(version);
      if (snapshot) return snapshot;
      const workflow = this.workflows.resolve(workflowId, version);
      if (!workflow) {
        throw new IntakeException(IntakeErrorCode.UNKNOWN_WORKFLOW_VERSION, HttpStatus.UNPROCESSABLE_ENTITY, `workflow ${workflowId} has no version ${version}`);
      }
      const unknownSteps = (target.steps ?? []).filter((id) => !modelStepIds(workflow).includes(id));
      if (unknownSteps.length > 0) {
        throw new IntakeException(
          IntakeErrorCode.REPLAY_UNKNOWN_STEP,
          HttpStatus.UNPROCESSABLE_ENTITY,
          `workflow ${workflowId} v${version} has no model step ${unknownSteps.join(', ')} (its model steps: ${modelStepIds(workflow).join(', ')})`,
        );
      }
      snapshot = shadowWorkflow(workflow, target);
      snapshots.set(version, snapshot);
      return snapshot;
    };

    const skipped: { jobId: string; reason: string }[] = [];
    const runnable: { original: OriginalJob; workflow: WorkflowSnapshot }[] = [];
    for (const original of originals) {
      const workflow = snapshotFor(target.workflowVersion ?? original.workflow_version);
      if (original.data_erased_at) skipped.push({ jobId: original.id, reason: 'DATA_ERASED: its input was erased' });
      else if (original.input.text.length > workflow.input.maxLength) skipped.push({ jobId: original.id, reason: `INPUT_TOO_LONG: v${workflow.version} accepts at most ${workflow.input.maxLength} characters` });
      else runnable.push({ original, workflow });
    }
    if (runnable.length === 0) {
      throw new IntakeException(IntakeErrorCode.REPLAY_NO_JOBS, HttpStatus.UNPROCESSABLE_ENTITY, `none of the ${originals.length} jobs can be replayed: ${skipped[0].reason}`);
    }

    const id = randomUUID();
    const references = Object.fromEntries((request.references ?? []).map((r) => [r.jobId, r.output]));
    // The replay and all its shadow jobs commit together, or none of them does.
    await this.replays.transaction(async (manager) => {
      await this.replays.insert(manager, {
        id,
        tenantId: principal.tenantId,
        workflowId,
        target,
        selection: request.jobs ? { jobs: request.jobs } : { window: request.window },
        chargeBudget: request.chargeBudget,
        references,
        skipped,
        jobCount: runnable.length,
        keyId: principal.keyId,
      });
      const writes = runnable.map(({ original, workflow }) =>
        this.jobsService.newJob(principal, workflow, {
          input: original.input,
          metadata: original.metadata,
          idempotencyKey: null,
          requestHash: null,
          reserve: request.chargeBudget,
          shadow: { replayId: id, originalJobId: original.id },
          retainUntil: original.retain_until,
        }),
      );
      const results = await this.jobs.createAll(manager, writes);
      const refused = results.find((r) => r.refused);
      if (refused?.refused) throw budgetExceeded(refused.refused);
    });
    return (await this.get(principal, id, false)) as ReplayView;
  }

  async list(principal: Principal, limit: number): Promise<ReplayList> {
    return { items: (await this.replays.list(principal.tenantId, limit)).map(toView) };
  }

  /** The replay with its report (`report` false: the replay only). */
  async get(principal: Principal, id: string, report = true): Promise<ReplayReport | ReplayView> {
    const replay = UUID.test(id) ? await this.replays.find(principal.tenantId, id) : undefined;
    if (!replay) throw new IntakeException(IntakeErrorCode.REPLAY_NOT_FOUND, HttpStatus.NOT_FOUND, `no replay ${id}`);
    const view = toView(replay);
    if (!report) return view;
    const { shadows, originals } = await this.replays.compared(replay.id);
    const byId = new Map(originals.map((o) => [o.id, o]));
    // In the originals' order (oldest first): shadow jobs were all created at once.
    const at = (s: ComparedJob) => new Date(byId.get(s.shadow_of!)!.created_at).getTime();
    const comparisons = shadows
      .filter((s) => byId.has(s.shadow_of!))
      .sort((x, y) => at(x) - at(y) || (x.shadow_of! < y.shadow_of! ? -1 : 1))
      .map((s) => compare(byId.get(s.shadow_of!)!, s, replay.references));
    return { ...view, aggregate: aggregate(comparisons), comparisons };
  }
}

function toView(r: ReplayRow): ReplayView {
  const completed = r.finished >= r.job_count;
  return {
    id: r.id,
    tenantId: r.tenant_id,
    status: completed ? 'completed' : 'running',
    workflow: { id: r.workflow_id },
    target: r.target,
    chargeBudget: r.charge_budget,
    jobs: r.job_count,
    skipped: r.skipped,
    createdAt: new Date(r.created_at).toISOString(),
    completedAt: completed && r.last_finished_at ? new Date(r.last_finished_at).toISOString() : null,
    links: { self: `/v1/replays/${r.id}`, jobs: `/v1/jobs?replay=${r.id}` },
  };
}

function verdictOf(j: ComparedJob): Verdict {
  if (j.review_status || j.would_review) return 'review';
  switch (j.outcome) {
    case 'succeeded':
      return 'validated';
    case 'rejected':
    case 'failed':
    case 'cancelled':
      return j.outcome;
    default:
      return j.status === 'awaiting_review' ? 'review' : 'pending';
  }
}

function side(j: ComparedJob): ReplaySide {
  return {
    jobId: j.id,
    workflow: { id: j.workflow_id, version: j.workflow_version },
    status: j.status as ReplaySide['status'],
    verdict: verdictOf(j),
    reasons: j.errors ?? [],
    heldBecause: j.review_held_because ?? j.would_review?.heldBecause ?? [],
    findings: j.review_findings ?? j.would_review?.findings ?? [],
    output: j.result ?? undefined,
    costUsd: j.cost_usd === null ? 0 : picoUsd(toPico(j.cost_usd)),
    latencyMs: j.finished_at ? new Date(j.finished_at).getTime() - new Date(j.created_at).getTime() : null,
    modelLatencyMs: Math.round(j.model_ms),
  };
}

function compare(o: ComparedJob, s: ComparedJob, references: Record<string, unknown>): ReplayComparison {
  const original = side(o);
  const shadow = side(s);
  const finished = s.finished_at !== null;
  const bothOutput = finished && original.output !== undefined && shadow.output !== undefined;
  return {
    original,
    shadow,
    verdictChanged: finished && original.verdict !== shadow.verdict,
    costDeltaUsd: picoUsd(toPico(shadow.costUsd) - toPico(original.costUsd)),
    output: bothOutput ? compareOutputs(original.output, shadow.output) : undefined,
    reference: reference(o, references, finished ? shadow.output : undefined),
  };
}

/** A given reference answer, else the original's review decision: its held output approved, or the edit. */
function reference(o: ComparedJob, references: Record<string, unknown>, shadowOutput: unknown): ReplayComparison['reference'] {
  const withComparison = (r: NonNullable<ReplayComparison['reference']>) => ({
    ...r,
    comparison: r.output !== undefined && shadowOutput !== undefined ? compareOutputs(r.output, shadowOutput) : undefined,
  });
  if (o.id in references) return withComparison({ source: 'given', output: references[o.id] });
  const decision = o.review_status === 'decided' ? o.review_decision?.decision : undefined;
  if (!decision) return undefined;
  const output = decision === 'approve' ? (o.review_output ?? undefined) : decision === 'edit' ? (o.result ?? undefined) : undefined;
  return withComparison({ source: 'review', decision, output });
}

function aggregate(comparisons: ReplayComparison[]): ReplayAggregate {
  const finished = comparisons.filter((c) => c.shadow.latencyMs !== null);
  // In the schema's order (validated, review, rejected, ...), whatever order the jobs came in.
  const counts = (verdicts: Verdict[]) =>
    Object.fromEntries(VerdictSchema.options.map((v) => [v, verdicts.filter((x) => x === v).length]).filter(([, n]) => n !== 0)) as Record<Verdict, number>;
  const sumUsd = (values: number[]) => picoUsd(values.reduce((a, v) => a + toPico(v), 0n));
  const outputs = comparisons.flatMap((c) => (c.output ? [c.output] : []));
  const refs = comparisons.flatMap((c) => (c.reference?.comparison ? [c.reference.comparison] : []));
  const original = sumUsd(finished.map((c) => c.original.costUsd));
  const shadow = sumUsd(finished.map((c) => c.shadow.costUsd));
  const latency = (values: (number | null)[]) => {
    const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
    return { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95) };
  };
  return {
    jobs: comparisons.length,
    finished: finished.length,
    costUsd: { original, shadow, delta: picoUsd(toPico(shadow) - toPico(original)) },
    latencyMs: { original: latency(finished.map((c) => c.original.latencyMs)), shadow: latency(finished.map((c) => c.shadow.latencyMs)) },
    modelLatencyMs: {
      original: latency(finished.map((c) => c.original.modelLatencyMs)),
      shadow: latency(finished.map((c) => c.shadow.modelLatencyMs)),
    },
    verdicts: {
      original: counts(finished.map((c) => c.original.verdict)),
      shadow: counts(finished.map((c) => c.shadow.verdict)),
      changed: finished.filter((c) => c.verdictChanged).length,
    },
    outputs: { compared: outputs.length, exact: outputs.filter((o) => o.exact).length, meanSimilarity: mean(outputs.map((o) => o.similarity)) },
    references: { compared: refs.length, exact: refs.filter((o) => o.exact).length, meanSimilarity: mean(refs.map((o) => o.similarity)) },
  };
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

const mean = (values: number[]) => (values.length === 0 ? null : Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 1e4) / 1e4);
