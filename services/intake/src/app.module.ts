import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TroupeRuntimeModule } from '@troupe/runtime';
import { ApiKeyGuard } from './auth/api-key.guard';
import { intakeDefinition } from './intake.config';
import { JobsModule } from './jobs/jobs.module';
import { WorkflowsModule } from './workflows/workflows.module';

@Module({
  imports: [TroupeRuntimeModule.forService(intakeDefinition), WorkflowsModule, JobsModule],
  providers: [{ provide: APP_GUARD, useClass: ApiKeyGuard }],
})
export class AppModule {}
