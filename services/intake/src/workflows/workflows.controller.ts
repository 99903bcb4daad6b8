import { Controller, Get, Inject } from '@nestjs/common';
import { z } from 'zod';
import { WorkflowRegistry } from './workflow-registry';

export const WorkflowSummarySchema = z.object({
  id: z.string(),
  version: z.number().int(),
  description: z.string(),
  labels: z.array(z.string()),
  outputSchema: z.record(z.string(), z.unknown()),
});

@Controller('v1/workflows')
export class WorkflowsController {
  constructor(@Inject(WorkflowRegistry) private readonly registry: WorkflowRegistry) {}

  @Get()
  list() {
    return {
      items: this.registry.list().map((w) => ({
        id: w.id,
        version: w.version,
        description: w.description,
        labels: [...new Set([...w.classification.rules.map((r) => r.label), w.classification.defaultLabel])],
        outputSchema: w.output.schema,
      })),
    };
  }
}
