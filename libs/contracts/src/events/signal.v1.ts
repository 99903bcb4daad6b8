import { z } from 'zod';
import { CreateJobRequestSchema } from '../api/jobs.api';

/**
 * The topic other systems publish work to (event-driven automation). Intake consumes it; each
 * signal becomes a job, once per `signalId` and tenant.
 */
export const SIGNALS_TOPIC = 'troupe.signals';

/**
 * A signal: the Kafka value is this JSON object (no CloudEvents headers needed). Whoever may write
 * to the topic may submit work for the tenant it names: guard the topic with Kafka ACLs.
 */
export const SignalV1Schema = CreateJobRequestSchema.extend({
  /** The sender's id for this piece of work; a repeated id creates nothing new. 1-200 printable characters. */
  signalId: z.string().regex(/^[\x21-\x7e]{1,200}$/, '1-200 printable ASCII characters'),
  /** The tenant the job belongs to; must be a tenant intake knows (one with an API key). */
  tenantId: z.string().min(1).max(63),
}).strict(); // the job request's fields, plus who sends it and its id
export type SignalV1 = z.infer<typeof SignalV1Schema>;
