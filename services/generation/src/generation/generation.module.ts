import { Module } from '@nestjs/common';
import { GenerationOutcomeRecorder } from './generation-outcome.recorder';
import { GenerationService } from './generation.service';
import { GenerationsRepository } from './generations.repository';
import { JobClassifiedHandler } from './job-classified.handler';
import { JobRegenerateRequestedHandler } from './job-regenerate-requested.handler';
import { modelRuntimeProvider } from './model-runtime.provider';

@Module({
  controllers: [JobClassifiedHandler, JobRegenerateRequestedHandler],
  providers: [modelRuntimeProvider, GenerationService, GenerationsRepository, GenerationOutcomeRecorder],
})
export class GenerationModule {}
