import { Module } from '@nestjs/common';
import { TroupeRuntimeModule } from '@troupe/runtime';
import { generationDefinition } from './generation.config';
import { GenerationModule } from './generation/generation.module';

@Module({ imports: [TroupeRuntimeModule.forService(generationDefinition), GenerationModule] })
export class AppModule {}
