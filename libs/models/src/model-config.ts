import { resolve } from 'node:path';
import { z } from 'zod';
import { ModelCatalogue } from './model-catalogue';
import { ModelClient } from './model-client';
import { ModelRouter } from './model-router';

/** The environment variables of every service that calls models (merged into its config schema). */
export const ModelConfigSchema = z.object({
  /** The model catalogue (YAML): providers, models, prices, limits. Relative to the working directory. */
  TROUPE_MODEL_CATALOGUE: z.string().default('config/models.yaml'),
  /** Tries per model for transient errors (timeouts, 429, 5xx); 1 disables retries. */
  TROUPE_MODEL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  TROUPE_MODEL_RETRY_BASE_MS: z.coerce.number().int().min(1).max(60_000).default(250),
  TROUPE_MODEL_RETRY_CAP_MS: z.coerce.number().int().min(1).max(300_000).default(10_000),
  /** The longest `Retry-After` a call waits for before a retry; longer ones fail over at once. */
  TROUPE_MODEL_RETRY_AFTER_CAP_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  /** Consecutive unhealthy failures that open a model's circuit. */
  TROUPE_MODEL_BREAKER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  TROUPE_MODEL_BREAKER_HALF_OPEN_MS: z.coerce.number().int().min(10).max(600_000).default(10_000),
  /** Deadline of one generation (or classification) step, all attempts and fallbacks included. */
  TROUPE_MODEL_STEP_DEADLINE_MS: z.coerce.number().int().min(100).max(3_600_000).default(120_000),
});
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

export interface ModelRuntime {
  catalogue: ModelCatalogue;
  client: ModelClient;
  router: ModelRouter;
  deadlineMs: number;
}

/** Loads the catalogue (failing fast on a bad file) and builds the client and router from config. */
export function createModelRuntime(config: ModelConfig, env: NodeJS.ProcessEnv = process.env): ModelRuntime {
  const catalogue = ModelCatalogue.load(resolve(config.TROUPE_MODEL_CATALOGUE), env);
  const client = new ModelClient(catalogue, {
    maxAttempts: config.TROUPE_MODEL_MAX_ATTEMPTS,
    retryBaseMs: config.TROUPE_MODEL_RETRY_BASE_MS,
    retryCapMs: config.TROUPE_MODEL_RETRY_CAP_MS,
    retryAfterCapMs: config.TROUPE_MODEL_RETRY_AFTER_CAP_MS,
    breakerFailures: config.TROUPE_MODEL_BREAKER_FAILURES,
    breakerHalfOpenMs: config.TROUPE_MODEL_BREAKER_HALF_OPEN_MS,
  });
  return {
    catalogue,
    client,
    router: new ModelRouter(client),
    deadlineMs: config.TROUPE_MODEL_STEP_DEADLINE_MS,
  };
}
