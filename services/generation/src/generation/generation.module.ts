import { Module } from '@nestjs/common';
import { CONSUMER_GATE } from '@troupe/runtime';
import { GraphCache } from '../steps/graph-cache';
import { GraphProgress } from '../steps/graph-progress';
import { JobGraphsService } from '../steps/job-graphs.service';
import { JobRunsRepository } from '../steps/job-runs.repository';
import { StepExecutor } from '../steps/step-executor';
import { StepRunner } from '../steps/step-runner';
import { JobCancelRequestedHandler } from './job-cancel-requested.handler';
import { JobDataEraseRequestedHandler } from './job-data-erase-requested.handler';
import { JobClassifiedHandler } from './job-classified.handler';
import { JobRegenerateRequestedHandler } from './job-regenerate-requested.handler';
import { modelRuntimeProvider } from './model-runtime.provider';

@Module({
  controllers: [JobClassifiedHandler, JobRegenerateRequestedHandler, JobCancelRequestedHandler, JobDataEraseRequestedHandler],
  providers: [
    modelRuntimeProvider,
    StepRunner,
    GraphProgress,
    GraphCache,
    JobRunsRepository,
    StepExecutor,
    JobGraphsService,
    // The consumers wait while the executor is full: a backlog stays in Kafka.
    { provide: CONSUMER_GATE, useExisting: StepExecutor },
  ],
})
export class GenerationModule {}
