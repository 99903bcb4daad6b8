import { CommonConfigSchema } from '@troupe/config';
import type { ServiceDefinition } from '@troupe/runtime';
import { ClassificationEntity } from './classifier/classification.entity';
import { Classifications1763800000001 } from './migrations/1763800000001-classifications';

export const ClassificationConfigSchema = CommonConfigSchema;

export const classificationDefinition: ServiceDefinition<typeof ClassificationConfigSchema> = {
  service: 'classification',
  configSchema: ClassificationConfigSchema,
  entities: [ClassificationEntity],
  migrations: [Classifications1763800000001],
  defaultPort: 3001,
};
