import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'jobs' })
export class JobEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'tenant_id' }) tenantId!: string;
  @Column('text', { name: 'workflow_id' }) workflowId!: string;
  @Column('int', { name: 'workflow_version' }) workflowVersion!: number;
  @Column('text') status!: string;
  @Column('double precision', { name: 'status_rank' }) statusRank!: number;
  @Column('text', { nullable: true }) outcome!: string | null;
  @Column('jsonb') input!: { text: string };
  @Column('text', { name: 'webhook_url', nullable: true }) webhookUrl!: string | null;
  @Column('jsonb') metadata!: Record<string, string>;
  @Column('jsonb', { nullable: true }) result!: unknown;
  @Column('jsonb', { nullable: true }) errors!: { code: string; message: string; path?: string }[] | null;
  @Column('numeric', { name: 'cost_usd', nullable: true }) costUsd!: string | null;
  /** The steps of the job's graph by id (from step events and job.generated). */
  @Column('jsonb', { nullable: true }) steps!: Record<string, unknown> | null;
  @Column('timestamptz', { name: 'cancel_requested_at', nullable: true }) cancelRequestedAt!: Date | null;
  @Column('text', { name: 'cancel_requested_by', nullable: true }) cancelRequestedBy!: string | null;
  @Column('text', { nullable: true }) label!: string | null;
  @Column('text', { name: 'key_id', nullable: true }) keyId!: string | null;
  /** The job's model work is over; `settled_at`: its budget reservations are settled. */
  @Column('timestamptz', { name: 'ended_at', nullable: true }) endedAt?: Date | null;
  @Column('timestamptz', { name: 'settled_at', nullable: true }) settledAt?: Date | null;
  @Column('text', { name: 'idempotency_key', nullable: true }) idempotencyKey!: string | null;
  @Column('timestamptz', { name: 'retain_until', nullable: true }) retainUntil?: Date | null;
  @Column('timestamptz', { name: 'data_erased_at', nullable: true }) dataErasedAt?: Date | null;
  @Column('text', { name: 'request_hash', nullable: true }) requestHash!: string | null;
  /** A shadow job: the replay that made it and the original it re-runs. */
  @Column('uuid', { name: 'replay_id', nullable: true }) replayId?: string | null;
  @Column('uuid', { name: 'shadow_of', nullable: true }) shadowOf?: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
