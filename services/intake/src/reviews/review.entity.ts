import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One held result in the review queue, as intake learnt it from validation's events. */
@Entity({ name: 'reviews' })
export class ReviewEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'job_id', unique: true }) jobId!: string;
  @Column('text', { name: 'tenant_id' }) tenantId!: string;
  @Column('text', { name: 'workflow_id' }) workflowId!: string;
  @Column('int', { name: 'workflow_version' }) workflowVersion!: number;
  @Column('text') status!: 'pending' | 'escalated' | 'decided' | 'expired' | 'cancelled';
  @Column('text') label!: string;
  @Column('double precision') confidence!: number;
  @Column('jsonb', { nullable: true }) output!: unknown;
  @Column('jsonb', { name: 'output_schema' }) outputSchema!: Record<string, unknown>;
  @Column('jsonb', { name: 'held_because' }) heldBecause!: string[];
  @Column('jsonb') findings!: { code: string; message: string; path?: string }[];
  @Column('timestamptz', { name: 'due_at' }) dueAt!: Date;
  @Column('text', { name: 'on_deadline' }) onDeadline!: 'reject' | 'escalate';
  @Column('jsonb', { nullable: true }) decision!: unknown;
  /** The job's trace where the hold was read, so the decision's event continues it. */
  @Column('jsonb', { name: 'trace_headers' }) traceHeaders!: Record<string, string>;
  @Column('timestamptz', { name: 'requested_at' }) requestedAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
