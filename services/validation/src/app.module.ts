import { Module } from '@nestjs/common';
import { TroupeRuntimeModule } from '@troupe/runtime';
import { validationDefinition } from './validation.config';
import { ValidationModule } from './validation/validation.module';

@Module({ imports: [TroupeRuntimeModule.forService(validationDefinition), ValidationModule] })
export class AppModule {}
