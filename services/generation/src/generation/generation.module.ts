import { Module } from '@nestjs/common';
import { GenerationService } from './generation.service';
import { GenerationsRepository } from './generations.repository';
import { JobClassifiedHandler } from './job-classified.handler';

@Module({
  controllers: [JobClassifiedHandler],
  providers: [GenerationService, GenerationsRepository],
})
export class GenerationModule {}
