import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { LOGGER, runPeriodically, SERVICE_CONFIG } from '@troupe/runtime';
import type { Logger } from 'pino';
import type { IntakeConfig } from '../intake.config';
import { JobsService } from './jobs.service';

/**
 * Erases the payloads of finished jobs past their retention (a workflow's `retention.days`, else
 * TROUPE_RETENTION_DAYS), every TROUPE_RETENTION_SWEEP_INTERVAL_MS. Every replica sweeps: the due
 * jobs are taken with SKIP LOCKED, so two replicas never erase the same job twice.
 */
@Injectable()
export class RetentionSweeper implements OnModuleInit, OnModuleDestroy {
  private stop?: () => void;

  constructor(
    private readonly jobs: JobsService,
    @Inject(SERVICE_CONFIG) private readonly config: IntakeConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.stop = runPeriodically('retention sweep', this.config.TROUPE_RETENTION_SWEEP_INTERVAL_MS, () => this.sweep(), this.logger);
  }

  onModuleDestroy(): void {
    this.stop?.();
  }

  /** Sweeps until nothing is due; returns how many jobs were erased. */
  async sweep(): Promise<number> {
    let total = 0;
    for (let n = await this.jobs.eraseExpired(); n > 0; n = await this.jobs.eraseExpired()) total += n;
    if (total > 0) this.logger.info({ jobs: total }, 'payloads past their retention erased');
    return total;
  }
}
