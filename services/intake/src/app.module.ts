import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TroupeRuntimeModule } from '@troupe/runtime';
import { ApiKeyGuard } from './auth/api-key.guard';
import { intakeDefinition } from './intake.config';
import { DeadLettersModule } from './dead-letters/dead-letters.module';
import { JobsModule } from './jobs/jobs.module';
import { SignalsModule } from './signals/signals.module';
import { WorkflowsModule } from './workflows/workflows.module';

@Module({
  imports: [TroupeRuntimeModule.forService(intakeDefinition), WorkflowsModule, JobsModule, SignalsModule, DeadLettersModule],
  providers: [{ provide: APP_GUARD, useClass: ApiKeyGuard }],
})
export class AppModule {}
