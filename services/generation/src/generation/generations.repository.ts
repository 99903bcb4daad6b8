import { Injectable } from '@nestjs/common';
import type { Generation } from '@troupe/contracts';
import { BatchInsert, type MessageContext } from '@troupe/messaging';

const COLUMNS = ['job_id', 'tenant_id', 'workflow_id', 'route', 'model', 'input_tokens', 'output_tokens', 'cost_usd', 'latency_ms'];

@Injectable()
export class GenerationsRepository {
  /** Records a model call (usage, cost, latency) with the chunk's others, in one statement at commit. */
  record(ctx: MessageContext, job: { jobId: string; tenantId: string; workflowId: string }, g: Generation): void {
    ctx
      .deferred('generations', () => new BatchInsert('generations', COLUMNS))
      .add([job.jobId, job.tenantId, job.workflowId, g.route, g.model, g.usage.inputTokens, g.usage.outputTokens, g.costUsd, g.latencyMs]);
  }
}
