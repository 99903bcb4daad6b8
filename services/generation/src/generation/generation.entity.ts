import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'generations' })
export class GenerationEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column('uuid', { name: 'job_id' }) jobId!: string;
  @Column('text', { name: 'tenant_id' }) tenantId!: string;
  @Column('text', { name: 'workflow_id' }) workflowId!: string;
  @Column('text') route!: string;
  @Column('text') model!: string;
  @Column('int', { name: 'input_tokens' }) inputTokens!: number;
  @Column('int', { name: 'output_tokens' }) outputTokens!: number;
  @Column('numeric', { name: 'cost_usd' }) costUsd!: string;
  @Column('real', { name: 'latency_ms' }) latencyMs!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
