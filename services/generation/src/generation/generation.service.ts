import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import type { Generation, JobClassifiedV1, ModelStep } from '@troupe/contracts';
import { LocalModelProvider, UnknownModelError, type ModelProvider } from '../local-model';
import { GenerationErrorCode, GenerationException } from './generation.exception';
import { withRepairNote, type RepairFeedback } from './repair-feedback';

/**
 * Routes a classified job to the model its workflow names for the label, and calls it through a
 * provider adapter. Providers are looked up by the `<provider>/` prefix of the model name; remote
 * providers plug in here.
 */
@Injectable()
export class GenerationService {
  private readonly providers = new Map<string, ModelProvider>();

  constructor() {
    this.register(new LocalModelProvider());
  }

  register(provider: ModelProvider): void {
    this.providers.set(provider.name, provider);
  }

  route(job: JobClassifiedV1): { route: string; step: ModelStep } {
    const routes = job.workflow.generation.routes;
    const route = job.classification.label in routes ? job.classification.label : 'default';
    return { route, step: routes[route] };
  }

  /**
   * `repair`, when validation sent the job back: the attempt being made and the errors of the last
   * one, which go into the prompt so the model can correct them.
   */
  async generate(job: JobClassifiedV1, repair?: RepairFeedback): Promise<Generation> {
    const { route, step } = this.route(job);
    const slash = step.model.indexOf('/');
    const providerName = step.model.slice(0, slash);
    const model = step.model.slice(slash + 1);
    const provider = this.providers.get(providerName);
    if (!provider) {
      throw new GenerationException(GenerationErrorCode.UNKNOWN_PROVIDER, `no model provider named ${providerName}`);
    }
    const started = performance.now();
    try {
      const result = await provider.generate({
        model,
        instructions: repair ? withRepairNote(step.instructions, repair) : step.instructions,
        input: job.input,
        repair,
        classification: job.classification,
        params: step.params,
      });
      return {
        model: step.model,
        route,
        output: result.output,
        finishReason: result.finishReason,
        usage: result.usage,
        costUsd: 0, // local models cost nothing; the model catalogue prices remote ones
        latencyMs: performance.now() - started,
      };
    } catch (error) {
      if (error instanceof UnknownModelError) {
        throw new GenerationException(GenerationErrorCode.UNKNOWN_MODEL, `provider ${providerName} has no model ${model}`);
      }
      throw error;
    }
  }
}
