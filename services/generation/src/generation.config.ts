import { CommonConfigSchema } from '@troupe/config';
import { ModelConfigSchema } from '@troupe/models';
import type { ServiceDefinition } from '@troupe/runtime';
import { GenerationEntity } from './generation/generation.entity';
import { Generations1763800000001 } from './migrations/1763800000001-generations';
import { GenerationAttempts1764500000001 } from './migrations/1764500000001-generation-attempts';

export const GenerationConfigSchema = CommonConfigSchema.merge(ModelConfigSchema);

export const generationDefinition: ServiceDefinition<typeof GenerationConfigSchema> = {
  service: 'generation',
  configSchema: GenerationConfigSchema,
  entities: [GenerationEntity],
  migrations: [Generations1763800000001, GenerationAttempts1764500000001],
  defaultPort: 3002,
};
