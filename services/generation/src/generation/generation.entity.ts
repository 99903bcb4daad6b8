import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'generations' })
export class GenerationEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column('uuid', { name: 'job_id' }) jobId!: string;
  @Column('text', { name: 'tenant_id' }) tenantId!: string;
  @Column('text', { name: 'workflow_id' }) workflowId!: string;
  /** The workflow step the attempt belonged to (null for attempts made before steps existed). */
  @Column('text', { name: 'step_id', nullable: true }) stepId!: string | null;
  @Column('text') route!: string;
  @Column('text') model!: string;
  @Column('int', { name: 'input_tokens' }) inputTokens!: number;
  @Column('int', { name: 'output_tokens' }) outputTokens!: number;
  @Column('numeric', { name: 'cost_usd' }) costUsd!: string;
  @Column('real', { name: 'latency_ms' }) latencyMs!: number;
  @Column('int', { name: 'generation_attempt' }) generationAttempt!: number;
  @Column('int') try!: number;
  @Column('text') outcome!: string;
  @Column('text', { name: 'error_kind', nullable: true }) errorKind!: string | null;
  @Column('text', { nullable: true }) strategy!: string | null;
  /** Whether this attempt's output is the one the job used. */
  @Column('boolean') chosen!: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
