import { resolve } from 'node:path';
import { Module } from '@nestjs/common';
import { ModelCatalogue } from '@troupe/models';
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
      useFactory: (config: IntakeConfig) => {
        // Models are checked against the same catalogue generation calls them from (keys are not read).
        const catalogue = ModelCatalogue.load(resolve(config.TROUPE_MODEL_CATALOGUE), {});
        return WorkflowRegistry.load(resolve(config.TROUPE_WORKFLOWS_DIR), { isKnownModel: (ref) => catalogue.get(ref) !== undefined });
      },
    },
  ],
  exports: [WorkflowRegistry],
})
export class WorkflowsModule {}
