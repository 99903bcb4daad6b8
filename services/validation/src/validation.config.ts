import { CommonConfigSchema } from '@troupe/config';
import type { ServiceDefinition } from '@troupe/runtime';
import { z } from 'zod';
import { Validations1763800000001 } from './migrations/1763800000001-validations';
import { Reviews1764500000001 } from './migrations/1764500000001-reviews';
import { CancelledReviews1765000000001 } from './migrations/1765000000001-cancelled-reviews';
import { ReviewEntity } from './validation/review.entity';
import { ValidationEntity } from './validation/validation.entity';

export const ValidationConfigSchema = CommonConfigSchema.extend({
  /** How often review deadlines are checked; a deadline fires at most this late. */
  TROUPE_REVIEW_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
});
export type ValidationConfig = z.infer<typeof ValidationConfigSchema>;

export const validationDefinition: ServiceDefinition<typeof ValidationConfigSchema> = {
  service: 'validation',
  configSchema: ValidationConfigSchema,
  entities: [ValidationEntity, ReviewEntity],
  migrations: [Validations1763800000001, Reviews1764500000001, CancelledReviews1765000000001],
  defaultPort: 3003,
  dropCancelledJobs: true,
};
