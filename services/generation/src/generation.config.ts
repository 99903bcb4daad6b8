import { CommonConfigSchema } from '@troupe/config';
import type { ServiceDefinition } from '@troupe/runtime';
import { GenerationEntity } from './generation/generation.entity';
import { Generations1763800000001 } from './migrations/1763800000001-generations';

export const GenerationConfigSchema = CommonConfigSchema;

export const generationDefinition: ServiceDefinition<typeof GenerationConfigSchema> = {
  service: 'generation',
  configSchema: GenerationConfigSchema,
  entities: [GenerationEntity],
  migrations: [Generations1763800000001],
  defaultPort: 3002,
};
