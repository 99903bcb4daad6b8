import { Module } from '@nestjs/common';
import { ReviewsModule } from '../reviews/reviews.module';
import { WorkflowsModule } from '../workflows/workflows.module';
import { JobEventsHandler } from './job-events.handler';
import { JobsController } from './jobs.controller';
import { JobsRepository } from './jobs.repository';
import { JobsService } from './jobs.service';

@Module({
  imports: [WorkflowsModule, ReviewsModule],
  controllers: [JobsController, JobEventsHandler],
  providers: [JobsService, JobsRepository],
})
export class JobsModule {}
