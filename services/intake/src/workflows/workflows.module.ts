import { resolve } from 'node:path';
import { Module } from '@nestjs/common';
import { SERVICE_CONFIG } from '@troupe/runtime';
import type { IntakeConfig } from '../intake.config';
import { WorkflowRegistry } from './workflow-registry';
import { WorkflowsController } from './workflows.controller';

@Module({
  controllers: [WorkflowsController],
  providers: [
    {
      provide: WorkflowRegistry,
      inject: [SERVICE_CONFIG],
      useFactory: (config: IntakeConfig) => WorkflowRegistry.load(resolve(config.TROUPE_WORKFLOWS_DIR)),
    },
  ],
  exports: [WorkflowRegistry],
})
export class WorkflowsModule {}
