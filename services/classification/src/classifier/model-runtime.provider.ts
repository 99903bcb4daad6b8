import type { Provider } from '@nestjs/common';
import { createModelRuntime, type ModelConfig, type ModelRuntime } from '@troupe/models';
import { SERVICE_CONFIG } from '@troupe/runtime';

export const MODEL_RUNTIME = Symbol('MODEL_RUNTIME');

/** The catalogue, client and router, built once at start-up; a bad catalogue stops the service. */
export const modelRuntimeProvider: Provider = {
  provide: MODEL_RUNTIME,
  inject: [SERVICE_CONFIG],
  useFactory: (config: ModelConfig): ModelRuntime => createModelRuntime(config),
};
