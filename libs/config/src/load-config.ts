import { z } from 'zod';

/** Thrown when the environment does not satisfy a service's schema; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      'Invalid configuration:\n' + problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/**
 * Parses environment variables with a zod object schema whose keys are the variable names.
 * Called once at start-up; a bad value stops the service with a message naming the variable.
 */
export function loadConfig<S extends z.ZodObject<z.ZodRawShape>>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? '(root)'), message: issue.message })),
  );
}

/** `"true"`/`"false"`/`"1"`/`"0"` -> boolean (z.coerce.boolean would read "false" as true). */
export const envBoolean = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Comma-separated list. */
export const envList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );

/** The variables every Troupe service reads. */
export const CommonConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  DATABASE_URL: z
    .string()
    .url()
    .default('postgres://postgres@127.0.0.1:5432/troupe'),
  TROUPE_KAFKA_BROKERS: envList('127.0.0.1:9092'),
  TROUPE_KAFKA_CLIENT_ID: z.string().optional(),
  /** TLS to the brokers (implied by a SASL mechanism unless set to false). */
  TROUPE_KAFKA_SSL: envBoolean(false),
  /** PEM file of the CA that signed the brokers' certificates (default: the system's CAs). */
  TROUPE_KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  /** SASL authentication to the brokers; with it, TROUPE_KAFKA_SASL_USERNAME and _PASSWORD. */
  TROUPE_KAFKA_SASL_MECHANISM: z.enum(['scram-sha-256', 'scram-sha-512', 'plain']).optional(),
  TROUPE_KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  TROUPE_KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  /** Partitions for job topics created at start-up (existing topics are left as they are). */
  TROUPE_KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(6),
  /**
   * A consumer group member's session: a member killed without leaving holds its partitions this
   * long (kafkajs has no static membership). The broker must allow it: group.min.session.timeout.ms
   * (6000 by default) <= this <= group.max.session.timeout.ms.
   */
  TROUPE_KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(300_000).default(6_000),
  /** How often a member heartbeats its group; at most a third of the session timeout. */
  TROUPE_KAFKA_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(100).max(100_000).default(1_000),
  /** Messages one consumer hands to a handler batch (one database transaction). */
  TROUPE_CONSUMER_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(200),
  /** How many times a message failing with an unclassified error is tried before it is dead-lettered. */
  TROUPE_CONSUMER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  /** How often each consumer group's lag is read from the broker; 0 turns it off. */
  TROUPE_CONSUMER_LAG_INTERVAL_MS: z.coerce.number().int().min(0).default(15_000),
  /**
   * Connections of the service's PostgreSQL pool. Every HTTP request that writes, every consumer
   * chunk and the relay each hold one while they run; a request waiting longer than 5 s for one fails.
   */
  TROUPE_DB_POOL_SIZE: z.coerce.number().int().min(2).max(1000).default(10),
  TROUPE_OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  TROUPE_OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  TROUPE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Port of the service's HTTP server (health, readiness, metrics; the public API for intake). */
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /**
   * Address the HTTP server binds to. Unset: all interfaces for intake (the public API) and for every
   * service in production; loopback for the internal services otherwise (local mode), so that their
   * probes and metrics are not open on the network of a developer's machine.
   */
  TROUPE_HTTP_HOST: z.string().min(1).optional(),
  /**
   * When set, `GET /metrics` needs `Authorization: Bearer <token>` (on intake, this token or an
   * admin key). Unset: the internal services' metrics are open to whoever reaches their port.
   */
  TROUPE_METRICS_TOKEN: z.string().min(16).optional(),
  TROUPE_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
});
export type CommonConfig = z.infer<typeof CommonConfigSchema>;
