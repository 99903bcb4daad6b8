import { type ArgumentsHost, Catch, type ExceptionFilter, type HttpServer, type INestApplication } from '@nestjs/common';
import { BaseExceptionFilter, NestFactory } from '@nestjs/core';
import { ConfigError, loadConfig, type CommonConfig } from '@troupe/config';
import { InboxTransport, type ConsumerGate, type KafkaGateway } from '@troupe/messaging';
import { createLogger, PinoNestLogger } from '@troupe/telemetry';
import type { Logger } from 'pino';
import { throwError } from 'rxjs';
import { DataSource } from 'typeorm';
import { httpMetrics } from './http-metrics';
import { groupTiming } from './kafka-connection';
import type { ServiceDefinition } from './service-definition';
import { type ConsumerStatus } from './runtime.module';
import { CONSUMER_GATE, CONSUMER_STATUS, KAFKA_GATEWAY, LOGGER } from './tokens';

/**
 * Nest's default RPC filter replaces every error with "Internal server error"; the inbox transport
 * needs the original to classify it (retry or dead-letter). HTTP errors go to the service's filter,
 * or Nest's default one.
 */
@Catch()
export class TroupeExceptionFilter extends BaseExceptionFilter {
  constructor(
    applicationRef: HttpServer,
    private readonly httpFilter?: ExceptionFilter,
  ) {
    super(applicationRef);
  }

  override catch(exception: unknown, host: ArgumentsHost) {
    if (host.getType() === 'rpc') return throwError(() => exception);
    if (this.httpFilter) return this.httpFilter.catch(exception, host);
    return super.catch(exception, host);
  }
}

export interface BootstrapOptions {
  definition: ServiceDefinition;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  module: any;
  /** Service-specific HTTP set-up (body limits, OpenAPI). */
  configure?: (app: INestApplication, logger: Logger) => void | Promise<void>;
  /** Formats HTTP errors; Nest's default when absent. */
  httpErrorFilter?: (logger: Logger) => ExceptionFilter;
}

/**
 * Starts a Troupe service: validates config (exiting with the variable's name on error), creates the
 * Nest app with JSON logs, attaches the inbox transport for its `@EventPattern` handlers, serves HTTP,
 * and closes cleanly on SIGTERM/SIGINT. Call `startTelemetry` before importing anything else.
 */
export async function bootstrapService(options: BootstrapOptions): Promise<INestApplication> {
  const { definition } = options;
  let config: CommonConfig;
  try {
    config = loadConfig(definition.configSchema) as CommonConfig;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`troupe-${definition.service}: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const bootLogger = createLogger(definition.service, config.TROUPE_LOG_LEVEL);
  let app: INestApplication;
  try {
    app = await NestFactory.create(options.module, {
      logger: new PinoNestLogger(bootLogger),
      abortOnError: false,
      bodyParser: false, // services that take bodies register their own parser with limits
    });
  } catch (error) {
    // A bad workflow file, an unreachable database or broker: say what and stop.
    bootLogger.fatal({ err: error }, `troupe-${definition.service} failed to start: ${(error as Error).message}`);
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the log line out
    process.exit(1);
  }
  const logger = app.get<Logger>(LOGGER);
  app.use(httpMetrics());
  app.useGlobalFilters(new TroupeExceptionFilter(app.getHttpAdapter(), options.httpErrorFilter?.(logger)));
  await options.configure?.(app, logger);

  const transport = new InboxTransport({
    service: definition.service,
    gateway: app.get<KafkaGateway>(KAFKA_GATEWAY),
    dataSource: app.get(DataSource),
    logger,
    batchSize: config.TROUPE_CONSUMER_BATCH_SIZE,
    maxAttempts: config.TROUPE_CONSUMER_MAX_ATTEMPTS,
    lagIntervalMs: config.TROUPE_CONSUMER_LAG_INTERVAL_MS,
    dropCancelledJobs: definition.dropCancelledJobs,
    gate: optionalProvider<ConsumerGate>(app, CONSUMER_GATE),
    onState: (state) => consumerStatus.set(state),
    heartbeatIntervalMs: groupTiming(config).heartbeatIntervalMs,
  });
  const consumerStatus = app.get<ConsumerStatus>(CONSUMER_STATUS);
  app.connectMicroservice({ strategy: transport }, { inheritAppConfig: true });
  // SIGTERM/SIGINT: stop taking work, finish and commit the batch in progress, close, exit 0.
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    // If a dependency never answers, leave anyway: uncommitted messages are redelivered.
    setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.TROUPE_SHUTDOWN_TIMEOUT_MS).unref();
    app.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);

  const port = config.PORT ?? definition.defaultPort;
  // Idle keep-alive connections outlive the usual 60 s of clients and load balancers: with Node's
  // 5 s default a client reusing a connection the server is just closing gets ECONNRESET.
  const server = app.getHttpServer() as import('node:http').Server;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // HTTP first: probes and the API answer while the consumer joins its group, which after a crash
  // can take until the dead member's session times out. Readiness says when it has joined.
  await app.listen(port, httpHost(config, definition));
  logger.info({ port }, `troupe-${definition.service} serving HTTP`);
  consumerStatus.expected = true;
  try {
    await app.startAllMicroservices();
  } catch (error) {
    logger.fatal({ err: error }, `troupe-${definition.service} could not start consuming: ${(error as Error).message}`);
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the log line out
    process.exit(1);
  }
  logger.info({ port, consumer: consumerStatus.state }, `troupe-${definition.service} ready`);
  return app;
}

/** The configured address, else every interface for a public API or in production, else loopback. */
export function httpHost(config: Pick<CommonConfig, 'TROUPE_HTTP_HOST' | 'NODE_ENV'>, definition: Pick<ServiceDefinition, 'publicHttp'>): string {
  if (config.TROUPE_HTTP_HOST) return config.TROUPE_HTTP_HOST;
  return definition.publicHttp || config.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1';
}

/** A provider the service may or may not declare. */
function optionalProvider<T>(app: INestApplication, token: symbol): T | undefined {
  try {
    return app.get<T>(token, { strict: false });
  } catch {
    return undefined;
  }
}
