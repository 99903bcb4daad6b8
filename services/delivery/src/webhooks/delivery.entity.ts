import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'deliveries' })
export class DeliveryEntity {
  /** Also the `webhook-id`: stable per job and target, so receivers can deduplicate. */
  @PrimaryColumn('text') id!: string;
  @Column('uuid', { name: 'job_id' }) jobId!: string;
  @Column('text', { name: 'tenant_id' }) tenantId!: string;
  @Column('text') url!: string;
  @Column('text') outcome!: 'validated' | 'rejected' | 'failed';
  @Column('jsonb') payload!: unknown;
  @Column('jsonb', { name: 'trace_headers' }) traceHeaders!: Record<string, string>;
  @Column('text') status!: 'pending' | 'delivered' | 'failed';
  @Column('int') attempts!: number;
  @Column('timestamptz', { name: 'next_attempt_at' }) nextAttemptAt!: Date;
  @Column('timestamptz', { name: 'locked_until', nullable: true }) lockedUntil!: Date | null;
  @Column('text', { name: 'last_error', nullable: true }) lastError!: string | null;
  @Column('text', { name: 'last_code', nullable: true }) lastCode!: string | null;
  /** Attempts made before the current round (a redelivery starts a new round). */
  @Column('int', { name: 'round_base' }) roundBase!: number;
  @Column('timestamptz', { name: 'round_started_at' }) roundStartedAt!: Date;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
