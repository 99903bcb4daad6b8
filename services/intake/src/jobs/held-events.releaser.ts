import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { LOGGER, runPeriodically, SERVICE_CONFIG } from '@troupe/runtime';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { IntakeConfig } from '../intake.config';
import { releaseStaleHeldEvents } from './read-model.batch';

/**
 * Applies the read model's held events whose predecessor has not come within
 * TROUPE_READ_MODEL_HOLD_MS (it was dead-lettered, or never emitted): the timeline then shows what
 * did happen rather than waiting for ever. Every replica sweeps; the job rows' locks serialise them.
 */
@Injectable()
export class HeldEventsReleaser implements OnModuleInit, OnModuleDestroy {
  private stop?: () => void;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: IntakeConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    const every = Math.max(1_000, Math.floor(this.config.TROUPE_READ_MODEL_HOLD_MS / 2));
    this.stop = runPeriodically('releasing held read-model events', every, () => this.release(), this.logger);
  }

  onModuleDestroy(): void {
    this.stop?.();
  }

  /** Returns how many jobs had events released. */
  async release(): Promise<number> {
    const jobs = await this.dataSource.transaction((manager) => releaseStaleHeldEvents(manager, this.config.TROUPE_READ_MODEL_HOLD_MS));
    if (jobs > 0) this.logger.warn({ jobs }, 'read-model events applied without the event they follow');
    return jobs;
  }
}
