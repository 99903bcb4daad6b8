import { CommonConfigSchema, envBoolean } from '@troupe/config';
import type { ServiceDefinition } from '@troupe/runtime';
import { allowlistProblem } from '@troupe/egress';
import { z } from 'zod';
import { JobEventEntity } from './jobs/job-event.entity';
import { JobEntity } from './jobs/job.entity';
import { Jobs1763800000001 } from './migrations/1763800000001-jobs';
import { Reviews1764500000001 } from './migrations/1764500000001-reviews';
import { StepsAndCancel1765000000001 } from './migrations/1765000000001-steps-and-cancel';
import { ReviewEntity } from './reviews/review.entity';
import { DeadLetters1764000000002 } from './migrations/1764000000002-dead-letters';

export const IntakeConfigSchema = CommonConfigSchema.extend({
  /**
   * API keys, comma-separated, each `<tenant>:<role>:<key>` where key is the plain key or
   * `sha256=<hex>` of it. Plain keys are hashed at start-up and never kept.
   */
  TROUPE_API_KEYS: z.string({ required_error: 'required: at least one <tenant>:<role>:<key> entry' }).min(1),
  TROUPE_WORKFLOWS_DIR: z.string().default('workflows'),
  /** The model catalogue generation uses: workflows naming a model it does not know are refused at start-up. */
  TROUPE_MODEL_CATALOGUE: z.string().default('config/models.yaml'),
  /** Largest accepted request body, in bytes. */
  TROUPE_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(256 * 1024),
  /**
   * Non-public webhook targets allowed anyway (comma-separated IPs, CIDRs or exact host names), e.g.
   * `127.0.0.1` for a local receiver. Everything else must resolve to public addresses only.
   */
  TROUPE_EGRESS_ALLOWLIST: z
    .string()
    .default('')
    .superRefine((spec, ctx) => {
      const problem = allowlistProblem(spec);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    }),
  /** Serve the OpenAPI document and its UI (they describe the API and hold no tenant data). */
  TROUPE_API_DOCS: envBoolean(true),
});
export type IntakeConfig = z.infer<typeof IntakeConfigSchema>;

export const intakeDefinition: ServiceDefinition<typeof IntakeConfigSchema> = {
  service: 'intake',
  configSchema: IntakeConfigSchema,
  entities: [JobEntity, JobEventEntity, ReviewEntity],
  migrations: [Jobs1763800000001, DeadLetters1764000000002, Reviews1764500000001, StepsAndCancel1765000000001],
  defaultPort: 3000,
};
