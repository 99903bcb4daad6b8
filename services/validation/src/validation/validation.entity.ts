import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'validations' })
export class ValidationEntity {
  @PrimaryColumn('uuid', { name: 'job_id' }) jobId!: string;
  @Column('text', { name: 'tenant_id' }) tenantId!: string;
  @Column('text', { name: 'workflow_id' }) workflowId!: string;
  @Column('text') verdict!: 'validated' | 'rejected';
  @Column('jsonb') reasons!: unknown[];
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
