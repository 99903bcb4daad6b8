import { Module } from '@nestjs/common';
import { GenerationService } from './generation.service';
import { GenerationsRepository } from './generations.repository';
import { JobClassifiedHandler } from './job-classified.handler';
import { modelRuntimeProvider } from './model-runtime.provider';

@Module({
  controllers: [JobClassifiedHandler],
  providers: [modelRuntimeProvider, GenerationService, GenerationsRepository],
})
export class GenerationModule {}
