import { Injectable } from '@nestjs/common';
import type { FailureReason } from '@troupe/contracts';
import { BatchInsert, type MessageContext } from '@troupe/messaging';

const COLUMNS = ['job_id', 'tenant_id', 'workflow_id', 'verdict', 'reasons'];

@Injectable()
export class ValidationsRepository {
  /** Records the verdict with the chunk's others, in one statement at commit. */
  record(ctx: MessageContext, job: { jobId: string; tenantId: string; workflowId: string }, reasons: FailureReason[]): void {
    ctx
      .deferred('validations', () => new BatchInsert('validations', COLUMNS, 'ON CONFLICT (job_id) DO NOTHING'))
      .add([job.jobId, job.tenantId, job.workflowId, reasons.length ? 'rejected' : 'validated', JSON.stringify(reasons)]);
  }
}
