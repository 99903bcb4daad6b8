import type { Classification } from '@troupe/contracts';

/** What a generation step asks of a model. The seam every provider adapter implements. */
export interface GenerationRequest {
  /** The model name without the provider prefix, e.g. `extractive-summary`. */
  model: string;
  /** The workflow's instructions for the model. */
  instructions?: string;
  /** User data: passed as data, never spliced into instructions. */
  input: { text: string };
  classification: Classification;
  params: Record<string, unknown>;
  /** Set on a retry from the repair loop: the errors of the previous attempt (also in `instructions`). */
  repair?: { attempt: number; errors: { code: string; path?: string; message: string }[] };
}

export interface GenerationResult {
  output: unknown;
  finishReason: 'stop' | 'length';
  usage: { inputTokens: number; outputTokens: number };
}

export interface ModelProvider {
  readonly name: string;
  supports(model: string): boolean;
  generate(request: GenerationRequest): Promise<GenerationResult>;
}

export class UnknownModelError extends Error {
  constructor(readonly model: string) {
    super(`unknown model ${model}`);
    this.name = 'UnknownModelError';
  }
}
