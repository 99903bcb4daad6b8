import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'classifications' })
export class ClassificationEntity {
  @PrimaryColumn('uuid', { name: 'job_id' }) jobId!: string;
  @Column('text', { name: 'tenant_id' }) tenantId!: string;
  @Column('text', { name: 'workflow_id' }) workflowId!: string;
  @Column('text') label!: string;
  @Column('real') confidence!: number;
  @Column('text') language!: string;
  @Column('text') sentiment!: string;
  @Column('text') model!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
