import { Inject, Injectable } from '@nestjs/common';
import type { FailureReason, Generation, JobClassifiedV1, ModelAttempt, ModelStep } from '@troupe/contracts';
import { ModelErrorKind, ModelRoutingError, type ModelRuntime } from '@troupe/models';
import { generationErrorCode, type GenerationErrorCode } from './generation.exception';
import { MODEL_RUNTIME } from './model-runtime.provider';

export interface GenerateOptions {
  /** 1 for a job's first generation; validation's regenerate request brings 2, 3... */
  attempt?: number;
  /** What was wrong with the previous output: goes to the model as data, never as instructions. */
  previousErrors?: FailureReason[];
  /** Cancels the model calls (the consumer is shutting down). */
  signal?: AbortSignal;
}

export type GenerationOutcome =
  | { kind: 'generated'; route: string; generation: Generation }
  | {
      kind: 'failed';
      route: string;
      code: GenerationErrorCode;
      reason: string;
      attempts: ModelAttempt[];
      costUsd: number;
      attempt: number;
    };

/**
 * Routes a classified job to its workflow's plan for the label and runs it through the model layer.
 * Never throws for a model failure: the outcome says what happened, and the handler records it.
 */
@Injectable()
export class GenerationService {
  constructor(@Inject(MODEL_RUNTIME) private readonly models: ModelRuntime) {}

  route(job: JobClassifiedV1): { route: string; step: ModelStep } {
    const routes = job.workflow.generation.routes;
    const route = job.classification.label in routes ? job.classification.label : 'default';
    return { route, step: routes[route] };
  }

  async generate(job: JobClassifiedV1, options: GenerateOptions = {}): Promise<GenerationOutcome> {
    const { route, step } = this.route(job);
    const attempt = options.attempt ?? 1;
    try {
      const generation = await this.models.router.run({
        route,
        step,
        data: {
          input: job.input,
          classification: job.classification,
          previousErrors: options.previousErrors,
        },
        schema: job.workflow.output.schema,
        attempt,
        classifierConfidence: job.classification.confidence,
        deadlineMs: this.models.deadlineMs,
        jobDeadlineAt: job.deadlineAt ? Date.parse(job.deadlineAt) : undefined,
        signal: options.signal,
      });
      return { kind: 'generated', route, generation };
    } catch (error) {
      if (!(error instanceof ModelRoutingError)) throw error;
      const tried = error.attempts.map((a) => `${a.model}#${a.try} ${a.errorKind ?? a.outcome}`).join(', ');
      const reason =
        error.kind === ModelErrorKind.UNKNOWN_MODEL
          ? error.message
          : `${error.message}${tried ? ` (attempts: ${tried})` : ''}`;
      return {
        kind: 'failed',
        route,
        code: generationErrorCode(error.kind),
        reason,
        attempts: error.attempts,
        costUsd: error.costUsd,
        attempt,
      };
    }
  }
}
