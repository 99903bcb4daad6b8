import type { ServiceName } from '@troupe/contracts';
import type { CommonConfig } from '@troupe/config';
import type { MigrationInterface } from 'typeorm';
import type { z } from 'zod';

/** What makes one Troupe service: its name, configuration schema, entities and migrations. */
export interface ServiceDefinition<S extends z.ZodObject<z.ZodRawShape> = z.ZodObject<z.ZodRawShape>> {
  service: ServiceName;
  configSchema: S;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: Function[];
  /** The service's own migrations; the messaging ones (outbox, inbox, cancelled jobs) are added before them. */
  migrations: (new () => MigrationInterface)[];
  defaultPort: number;
  /** Serves a public API (intake): binds to every interface by default, not only loopback in local mode. */
  publicHttp?: boolean;
  /**
   * Ready while its consumer is still joining its group: the service's API works without it
   * (intake accepts jobs through its outbox; the read model catches up once the group has joined).
   */
  readyWhileJoining?: boolean;
  /** Drop the events of jobs this service has marked cancelled (see `markJobCancelled`). */
  dropCancelledJobs?: boolean;
}

export type ConfigOf<D extends ServiceDefinition> = z.infer<D['configSchema']> & CommonConfig;
