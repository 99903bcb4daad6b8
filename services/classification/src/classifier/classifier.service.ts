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
    if (spec.kind === 'llm') {
      const deadline = job.deadlineAt ? Date.parse(job.deadlineAt) : undefined;
      return classifyWithLlm(job.input.text, spec, this.models, signal, deadline, job.workflow.privacy?.redact);
    }
    return classifyLocally(job.input.text, spec);
  }
}
