import { CommonConfigSchema } from '@troupe/config';
import { ModelConfigSchema } from '@troupe/models';
import type { ServiceDefinition } from '@troupe/runtime';
import { ClassificationEntity } from './classifier/classification.entity';
import { Classifications1763800000001 } from './migrations/1763800000001-classifications';

/** The model settings apply to workflows with an `llm` classifier. */
export const ClassificationConfigSchema = CommonConfigSchema.merge(ModelConfigSchema);

export const classificationDefinition: ServiceDefinition<typeof ClassificationConfigSchema> = {
  service: 'classification',
  configSchema: ClassificationConfigSchema,
  entities: [ClassificationEntity],
  migrations: [Classifications1763800000001],
  defaultPort: 3001,
  dropCancelledJobs: true,
};
