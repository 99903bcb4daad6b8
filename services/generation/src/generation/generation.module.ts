import { Module } from '@nestjs/common';
import { GenerationService } from './generation.service';
import { GenerationsRepository } from './generations.repository';
import { JobClassifiedHandler } from './job-classified.handler';
import { JobRegenerateRequestedHandler } from './job-regenerate-requested.handler';

@Module({
  controllers: [JobClassifiedHandler, JobRegenerateRequestedHandler],
  providers: [GenerationService, GenerationsRepository],
})
export class GenerationModule {}
