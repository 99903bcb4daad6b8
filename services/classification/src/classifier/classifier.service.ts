import { Injectable } from '@nestjs/common';
import type { Classification, JobRequestedV1 } from '@troupe/contracts';
import { classifyLocally } from './local-classifier';

/** Chooses the route of a job. Today: the local rules + language + sentiment classifier. */
@Injectable()
export class ClassifierService {
  classify(job: JobRequestedV1): Classification {
    return classifyLocally(job.input.text, job.workflow.classification);
  }
}
