import { z } from 'zod';
import { ClassificationSchema, JobContextSchema } from './job-context';

export const JOB_CLASSIFIED_V1 = 'troupe.job.classified.v1';
export const JobClassifiedV1Schema = JobContextSchema.extend({ classification: ClassificationSchema });
export type JobClassifiedV1 = z.infer<typeof JobClassifiedV1Schema>;
