import { Injectable } from '@nestjs/common';
import type { ModelAttempt } from '@troupe/contracts';
import { BatchInsert, type MessageContext } from '@troupe/messaging';

const COLUMNS = [
  'job_id',
  'tenant_id',
  'workflow_id',
  'route',
  'model',
  'input_tokens',
  'output_tokens',
  'cost_usd',
  'latency_ms',
  'generation_attempt',
  'try',
  'outcome',
  'error_kind',
  'strategy',
  'chosen',
];

@Injectable()
export class GenerationsRepository {
  /** Records every model attempt of a step (usage, cost, latency, outcome) with the chunk's others, in one statement at commit. */
  record(
    ctx: MessageContext,
    job: { jobId: string; tenantId: string; workflowId: string },
    step: { route: string; strategy?: string; attempt: number; chosenModel?: string },
    attempts: ModelAttempt[],
  ): void {
    const insert = ctx.deferred('generations', () => new BatchInsert('generations', COLUMNS));
    // The chosen attempt is the last successful try of the model the job used.
    const chosen = step.chosenModel
      ? attempts.map((a) => a.outcome === 'succeeded' && step.chosenModel!.split('+').includes(a.model))
      : [];
    attempts.forEach((a, i) =>
      insert.add([
        job.jobId,
        job.tenantId,
        job.workflowId,
        step.route,
        a.model,
        a.usage?.inputTokens ?? 0,
        a.usage?.outputTokens ?? 0,
        a.costUsd,
        a.latencyMs,
        step.attempt,
        a.try,
        a.outcome,
        a.errorKind ?? null,
        step.strategy ?? null,
        chosen[i] ?? false,
      ]),
    );
  }
}
