import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { SERVICE_CONFIG } from '@troupe/runtime';
import type { IntakeConfig } from '../intake.config';
import { WorkflowRegistry } from '../workflows/workflow-registry';
import { WorkflowsModule } from '../workflows/workflows.module';
import { UsageController } from './usage.controller';
import { sloObjective, useTenantLabel } from './usage-metrics';
import { UsageService } from './usage.service';

@Module({ imports: [WorkflowsModule], controllers: [UsageController], providers: [UsageService] })
export class UsageModule implements OnModuleInit {
  constructor(
    @Inject(WorkflowRegistry) private readonly workflows: WorkflowRegistry,
    @Inject(SERVICE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  /** The declared objectives as gauges: burn-rate rules divide by them (see docs/budgets.md). */
  onModuleInit(): void {
    useTenantLabel(this.config.TROUPE_METRICS_TENANT_LABEL);
    for (const w of this.workflows.list()) {
      if (this.workflows.resolve(w.id)?.version !== w.version) continue; // the newest version's
      if (w.objectives?.delivered !== undefined) sloObjective.set({ workflow: w.id, objective: 'delivered' }, w.objectives.delivered);
      if (w.objectives?.latencyP95Ms !== undefined) sloObjective.set({ workflow: w.id, objective: 'latency_p95_seconds' }, w.objectives.latencyP95Ms / 1000);
    }
  }
}
