import { z } from 'zod';
import { JobContextSchema } from './job-context';

export const JOB_REQUESTED_V1 = 'troupe.job.requested.v1';
export const JobRequestedV1Schema = JobContextSchema.extend({ requestedAt: z.string().datetime() });
export type JobRequestedV1 = z.infer<typeof JobRequestedV1Schema>;
