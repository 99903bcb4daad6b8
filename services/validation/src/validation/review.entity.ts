import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type ReviewState = 'pending' | 'escalated' | 'approved' | 'edited' | 'rejected' | 'expired' | 'cancelled';

/** A result held for a person, with the job it completes and the deadline that resolves it otherwise. */
@Entity({ name: 'reviews' })
export class ReviewEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'job_id', unique: true }) jobId!: string;
  @Column('text', { name: 'tenant_id' }) tenantId!: string;
  @Column('text', { name: 'workflow_id' }) workflowId!: string;
  @Column('text') status!: ReviewState;
  @Column('text', { name: 'on_deadline' }) onDeadline!: 'reject' | 'escalate';
  @Column('timestamptz', { name: 'due_at' }) dueAt!: Date;
  @Column('int', { name: 'escalation_seconds', nullable: true }) escalationSeconds!: number | null;
  @Column('jsonb') job!: unknown;
  @Column('jsonb', { name: 'trace_headers' }) traceHeaders!: Record<string, string>;
  @Column('text', { name: 'decided_by', nullable: true }) decidedBy!: string | null;
  @Column('timestamptz', { name: 'decided_at', nullable: true }) decidedAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
