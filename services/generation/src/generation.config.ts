import { CommonConfigSchema } from '@troupe/config';
import { ModelConfigSchema } from '@troupe/models';
import type { ServiceDefinition } from '@troupe/runtime';
import { z } from 'zod';
import { GenerationEntity } from './generation/generation.entity';
import { Generations1763800000001 } from './migrations/1763800000001-generations';
import { GenerationAttempts1764500000001 } from './migrations/1764500000001-generation-attempts';
import { StepGraphs1765000000001 } from './migrations/1765000000001-step-graphs';

export const GenerationConfigSchema = CommonConfigSchema.merge(ModelConfigSchema).extend({
  /** Steps one generation process runs at once (model calls are further limited per provider by the catalogue). */
  TROUPE_STEP_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(256),
  /**
   * How long a running step stays leased to its process without a renewal (renewed every third of
   * it): when a process dies, its steps are taken over by another after at most this long.
   */
  TROUPE_STEP_LEASE_MS: z.coerce.number().int().min(1_000).max(600_000).default(15_000),
  /** Finished step graphs (their steps' outputs) are deleted after this long. */
  TROUPE_STEP_STATE_RETENTION_HOURS: z.coerce.number().int().min(1).max(24 * 365).default(14 * 24),
});
export type GenerationConfig = z.infer<typeof GenerationConfigSchema>;

export const generationDefinition: ServiceDefinition<typeof GenerationConfigSchema> = {
  service: 'generation',
  configSchema: GenerationConfigSchema,
  entities: [GenerationEntity],
  migrations: [Generations1763800000001, GenerationAttempts1764500000001, StepGraphs1765000000001],
  defaultPort: 3002,
  dropCancelledJobs: true,
};
