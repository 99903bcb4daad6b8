import { Module } from '@nestjs/common';
import { ReviewsModule } from '../reviews/reviews.module';
import { EgressPolicy } from '@troupe/egress';
import { SERVICE_CONFIG } from '@troupe/runtime';
import type { IntakeConfig } from '../intake.config';
import { WorkflowsModule } from '../workflows/workflows.module';
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
    {
      provide: EgressPolicy,
      inject: [SERVICE_CONFIG],
      useFactory: (config: IntakeConfig) => EgressPolicy.fromSpec(config.TROUPE_EGRESS_ALLOWLIST),
    },
  ],
  exports: [JobsService],
})
export class JobsModule {}
