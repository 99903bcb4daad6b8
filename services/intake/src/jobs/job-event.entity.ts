import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One entry of a job's timeline. */
@Entity({ name: 'job_events' })
export class JobEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' }) seq!: string;
  @Column('text', { name: 'event_id', unique: true }) eventId!: string;
  @Column('uuid', { name: 'job_id' }) jobId!: string;
  @Column('text') type!: string;
  @Column('text') source!: string;
  @Column('timestamptz') time!: Date;
  @Column('text') summary!: string;
}
