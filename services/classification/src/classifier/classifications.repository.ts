import { Injectable } from '@nestjs/common';
import type { Classification } from '@troupe/contracts';
import { BatchInsert, type MessageContext } from '@troupe/messaging';

const COLUMNS = ['job_id', 'tenant_id', 'workflow_id', 'label', 'confidence', 'language', 'sentiment', 'model'];

@Injectable()
export class ClassificationsRepository {
  /**
   * Records the decision with the chunk's other decisions, in one statement at commit; a job is
   * classified once (a replayed event keeps the first decision).
   */
  record(ctx: MessageContext, job: { jobId: string; tenantId: string; workflowId: string }, c: Classification): void {
    ctx
      .deferred('classifications', () => new BatchInsert('classifications', COLUMNS, 'ON CONFLICT (job_id) DO NOTHING'))
      .add([job.jobId, job.tenantId, job.workflowId, c.label, c.confidence, c.language, c.sentiment.label, c.model]);
  }
}
