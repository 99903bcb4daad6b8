import { Inject, Injectable } from '@nestjs/common';
import type { Classification, JobRequestedV1 } from '@troupe/contracts';
import type { ModelRuntime } from '@troupe/models';
import { classifyWithLlm } from './llm-classifier';
import { classifyLocally } from './local-classifier';
import { MODEL_RUNTIME } from './model-runtime.provider';

/** Chooses the route of a job: local rules + language + sentiment, or an LLM answering label + confidence. */
@Injectable()
export class ClassifierService {
  constructor(@Inject(MODEL_RUNTIME) private readonly models: ModelRuntime) {}

  async classify(job: JobRequestedV1, signal?: AbortSignal): Promise<Classification> {
    const spec = job.workflow.classification;
    if (spec.kind === 'llm') return classifyWithLlm(job.input.text, spec, this.models, signal);
    return classifyLocally(job.input.text, spec);
  }
}
