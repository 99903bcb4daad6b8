import { Client } from 'pg';
import { DataSource, type Logger as TypeormLogger, type MigrationInterface, type MixedList, type EntitySchema } from 'typeorm';

/** The part of a pino logger the data source writes to. */
export interface JsonLogger {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

/**
 * TypeORM's own logger prints plain text with every query parameter (job inputs, keys' hashes,
 * outputs): here a failed query is one JSON line with the statement, never its parameters. The
 * caller decides what the failure means (retry, dead letter, 503) and logs that.
 */
export class JsonTypeormLogger implements TypeormLogger {
  constructor(private readonly logger: JsonLogger) {}

  logQuery(): void {}

  logQueryError(error: string | Error, query: string): void {
    const e = error as { code?: string; message?: string };
    this.logger.warn({ code: e.code, error: typeof error === 'string' ? error : e.message, query: query.slice(0, 500) }, 'query failed');
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ ms: time, query: query.slice(0, 500) }, 'slow query');
  }

  logSchemaBuild(message: string): void {
    this.logger.debug({}, message);
  }

  logMigration(message: string): void {
    this.logger.info({}, message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn({ detail: String(message) }, 'typeorm');
    else this.logger.debug({ detail: String(message) }, 'typeorm');
  }
}

type MigrationClass = new () => MigrationInterface;

export interface ServiceDataSourceOptions {
  /** The service's own PostgreSQL schema (data ownership: no service reads another's). */
  schema: string;
  url: string;
  entities: MixedList<Function | string | EntitySchema>;
  migrations: MigrationClass[];
  poolSize?: number;
  /** Where TypeORM's failures go, as JSON without parameters (none: not logged). */
  logger?: JsonLogger;
}

/** A TypeORM data source bound to one service's schema; migrations only, never `synchronize`. */
export function createServiceDataSource(options: ServiceDataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'all',
    synchronize: false,
    logging: options.logger ? ['error', 'warn', 'migration'] : false,
    logger: options.logger ? new JsonTypeormLogger(options.logger) : undefined,
    applicationName: `troupe-${options.schema}`,
    // search_path makes the service's raw SQL (outbox, inbox) resolve to its own schema.
    extra: {
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
      options: `-c search_path=${quoteIdent(options.schema)}`,
    },
  });
}

/** Creates the database named in the URL when it does not exist (connecting to `postgres`). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`).catch((err: { code?: string }) => {
        // Created meanwhile by another service starting at the same moment: 42P04 duplicate_database,
        // or 23505 when both passed the catalog's unique index check together.
        if (err.code !== '42P04' && err.code !== '23505') throw err;
      });
    }
  } finally {
    await client.end();
  }
}

/**
 * Creates the service schema and runs pending migrations, holding a transaction-level advisory
 * lock so that replicas starting together do not race.
 */
export async function migrate(dataSource: DataSource, schema: string): Promise<string[]> {
  if (!dataSource.isInitialized) await dataSource.initialize();
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`troupe-migrate-${schema}`]);
    await runner.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    const applied = await dataSource.runMigrations({ transaction: 'all' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`troupe-migrate-${schema}`]).catch(() => undefined);
    await runner.release();
  }
}

export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}
