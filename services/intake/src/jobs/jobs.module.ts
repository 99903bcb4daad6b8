import { resolve } from 'node:path';
import { Module } from '@nestjs/common';
import { ModelCatalogue } from '@troupe/models';
import { CostBound } from '../budgets/cost-bound';
import { ReviewsModule } from '../reviews/reviews.module';
import { EgressPolicy } from '@troupe/egress';
import { SERVICE_CONFIG } from '@troupe/runtime';
import type { IntakeConfig } from '../intake.config';
import { WorkflowsModule } from '../workflows/workflows.module';
import { HeldEventsReleaser } from './held-events.releaser';
import { RetentionSweeper } from './retention.sweeper';
import { JobEventsHandler } from './job-events.handler';
import { JobsController } from './jobs.controller';
import { JobsRepository } from './jobs.repository';
import { JobsService } from './jobs.service';

@Module({
  imports: [WorkflowsModule, ReviewsModule],
  controllers: [JobsController, JobEventsHandler],
  providers: [
    JobsService,
    JobsRepository,
    HeldEventsReleaser,
    RetentionSweeper,
    {
      provide: CostBound,
      inject: [SERVICE_CONFIG],
      useFactory: (config: IntakeConfig) => new CostBound(ModelCatalogue.load(resolve(config.TROUPE_MODEL_CATALOGUE), {}), config.TROUPE_MODEL_MAX_ATTEMPTS),
    },
    {
      provide: EgressPolicy,
      inject: [SERVICE_CONFIG],
      useFactory: (config: IntakeConfig) => EgressPolicy.fromSpec(config.TROUPE_EGRESS_ALLOWLIST),
    },
  ],
  exports: [JobsService, JobsRepository, CostBound],
})
export class JobsModule {}
