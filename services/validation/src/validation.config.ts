import { CommonConfigSchema } from '@troupe/config';
import type { ServiceDefinition } from '@troupe/runtime';
import { Validations1763800000001 } from './migrations/1763800000001-validations';
import { ValidationEntity } from './validation/validation.entity';

export const ValidationConfigSchema = CommonConfigSchema;

export const validationDefinition: ServiceDefinition<typeof ValidationConfigSchema> = {
  service: 'validation',
  configSchema: ValidationConfigSchema,
  entities: [ValidationEntity],
  migrations: [Validations1763800000001],
  defaultPort: 3003,
};
