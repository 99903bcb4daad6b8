import {
  Controller,
  Get,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Header,
  Req,
} from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { topicSpecs } from '@troupe/contracts';
import { loadConfig, type CommonConfig } from '@troupe/config';
import { KafkajsGateway, OutboxRelay, type ConsumerState, type KafkaGateway } from '@troupe/messaging';
import { createServiceDataSource, ensureDatabase, messagingMigrations, migrate } from '@troupe/persistence';
import { createLogger, metricsRegistry, shutdownTelemetry } from '@troupe/telemetry';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { groupTiming, kafkaConnectionOptions } from './kafka-connection';
import type { ServiceDefinition } from './service-definition';
import { CONSUMER_STATUS, KAFKA_GATEWAY, LOGGER, SERVICE_CONFIG, SERVICE_DEFINITION, SERVICE_NAME } from './tokens';

/** Set on a request by a service's own guard that has authorised it for `/metrics` otherwise (intake: an admin key). */
export const METRICS_AUTHORIZED = Symbol('troupe:metrics-authorized');

/**
 * Whether the service's inbox consumer has joined its consumer group. HTTP is served before it has
 * (probes and the API answer while the group rebalances); readiness says so until it has.
 */
export class ConsumerStatus {
  /** 'none' until the transport starts, and for a service without event handlers. */
  state: ConsumerState | 'none' = 'none';
  /** Set by bootstrap: the service consumes events, so readiness waits for the group. */
  expected = false;
  since = Date.now();

  set(state: ConsumerState): void {
    if (state !== this.state) this.since = Date.now();
    this.state = state;
  }
}

/** Readiness is cached briefly so probes do not hammer the broker. */
const READINESS_CACHE_MS = 1_000;

@Controller()
export class ProbesController {
  private lastCheck = 0;
  private lastProblems: string[] = [];

  constructor(
    private readonly dataSource: DataSource,
    @Inject(KAFKA_GATEWAY) private readonly gateway: KafkaGateway,
    @Inject(SERVICE_NAME) private readonly service: string,
    @Inject(SERVICE_CONFIG) private readonly config: CommonConfig,
    @Inject(CONSUMER_STATUS) private readonly consumer: ConsumerStatus,
    @Inject(SERVICE_DEFINITION) private readonly definition: ServiceDefinition,
  ) {}

  /** Liveness: the process is up and its event loop answers. */
  @Get('health')
  health() {
    return { status: 'ok', service: this.service };
  }

  /**
   * Readiness: Postgres and Kafka answer, and the consumer has joined its group (a service that
   * serves its API without it, intake, only reports the consumer). 503 otherwise.
   */
  @Get('ready')
  async ready() {
    const consumer = this.consumerProblem();
    if (consumer && !this.definition.readyWhileJoining) {
      throw new HttpException(
        { status: 'not_ready', service: this.service, problems: [consumer], consumer: this.consumer.state },
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    }
    if (Date.now() - this.lastCheck > READINESS_CACHE_MS) {
      const problems: string[] = [];
      const timeout = (ms: number) =>
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), ms));
      await Promise.race([this.dataSource.query('SELECT 1'), timeout(2_000)]).catch((e: Error) =>
        problems.push(`postgres: ${e.message}`),
      );
      await Promise.race([this.gateway.ping(), timeout(2_000)]).catch((e: Error) =>
        problems.push(`kafka: ${e.message}`),
      );
      this.lastProblems = problems;
      this.lastCheck = Date.now();
    }
    if (this.lastProblems.length > 0) {
      throw new HttpException(
        { status: 'not_ready', service: this.service, problems: this.lastProblems, consumer: this.consumer.state },
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    }
    return { status: 'ready', service: this.service, consumer: this.consumer.state };
  }

  private consumerProblem(): string | undefined {
    if (!this.consumer.expected || this.consumer.state === 'consuming') return undefined;
    const seconds = Math.round((Date.now() - this.consumer.since) / 1000);
    return `kafka: consumer group troupe-${this.service} joining for ${seconds} s`;
  }

  /** Prometheus metrics; behind `TROUPE_METRICS_TOKEN` when it is set. */
  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metrics(@Req() request: { headers: Record<string, string | string[] | undefined>; [METRICS_AUTHORIZED]?: boolean }) {
    const token = this.config.TROUPE_METRICS_TOKEN;
    const authorization = request.headers.authorization;
    if (token && !request[METRICS_AUTHORIZED] && !bearerMatches(typeof authorization === 'string' ? authorization : undefined, token)) {
      throw new HttpException('GET /metrics needs Authorization: Bearer <TROUPE_METRICS_TOKEN>', HttpStatus.UNAUTHORIZED);
    }
    return metricsRegistry.metrics();
  }
}

/** Compares digests, so the comparison's time says nothing about the token. */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!presented) return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(token));
}

/** Starts the outbox relay once the app is up; on shutdown closes everything in dependency order. */
@Injectable()
export class RuntimeLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly relay: OutboxRelay,
    private readonly dataSource: DataSource,
    @Inject(KAFKA_GATEWAY) private readonly gateway: KafkaGateway,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap() {
    await this.relay.start();
  }

  // Runs after Nest closed the HTTP server and the consumer (which finishes its batch first).
  async onApplicationShutdown(signal?: string) {
    this.logger.info({ signal }, 'shutting down');
    await this.relay.stop();
    await this.relay.drain().catch((err) => this.logger.warn({ err }, 'outbox drain at shutdown failed'));
    await this.gateway.disconnect();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await shutdownTelemetry();
  }
}

@Module({})
export class TroupeRuntimeModule {
  /**
   * Everything a Troupe service shares: typed config, JSON logger, its Postgres schema (created and
   * migrated at start), the Kafka gateway (topics ensured), the outbox relay, probes and metrics.
   */
  static forService(definition: ServiceDefinition): DynamicModule {
    const schema = definition.service;
    // Config is read in factories, not at import time, so bootstrapService reports a bad value cleanly.
    return {
      module: TroupeRuntimeModule,
      global: true,
      controllers: [ProbesController],
      providers: [
        { provide: SERVICE_NAME, useValue: definition.service },
        { provide: SERVICE_DEFINITION, useValue: definition },
        { provide: CONSUMER_STATUS, useValue: new ConsumerStatus() },
        { provide: SERVICE_CONFIG, useFactory: () => loadConfig(definition.configSchema) },
        {
          provide: LOGGER,
          inject: [SERVICE_CONFIG],
          useFactory: (config: CommonConfig) => createLogger(definition.service, config.TROUPE_LOG_LEVEL),
        },
        {
          provide: DataSource,
          inject: [SERVICE_CONFIG, LOGGER],
          useFactory: async (config: CommonConfig, logger: Logger) => {
            await ensureDatabase(config.DATABASE_URL);
            const dataSource = createServiceDataSource({
              schema,
              url: config.DATABASE_URL,
              entities: definition.entities,
              migrations: [...messagingMigrations(schema), ...definition.migrations],
              poolSize: config.TROUPE_DB_POOL_SIZE,
              logger,
            });
            const applied = await migrate(dataSource, schema);
            if (applied.length > 0) logger.info({ applied }, 'migrations applied');
            return dataSource;
          },
        },
        {
          provide: KAFKA_GATEWAY,
          inject: [SERVICE_CONFIG, LOGGER],
          useFactory: async (config: CommonConfig, logger: Logger) => {
            const gateway = new KafkajsGateway({
              brokers: config.TROUPE_KAFKA_BROKERS,
              clientId: config.TROUPE_KAFKA_CLIENT_ID ?? `troupe-${definition.service}`,
              logger,
              ...kafkaConnectionOptions(config),
              groupTiming: groupTiming(config),
            });
            await gateway.ensureTopics(topicSpecs(config.TROUPE_KAFKA_PARTITIONS));
            return gateway;
          },
        },
        {
          provide: OutboxRelay,
          inject: [SERVICE_CONFIG, LOGGER, DataSource, KAFKA_GATEWAY],
          useFactory: (config: CommonConfig, logger: Logger, dataSource: DataSource, gateway: KafkaGateway) =>
            new OutboxRelay({
              service: definition.service,
              dataSource,
              gateway,
              logger,
              batchSize: config.TROUPE_OUTBOX_BATCH_SIZE,
              pollIntervalMs: config.TROUPE_OUTBOX_POLL_MS,
            }),
        },
        RuntimeLifecycle,
      ],
      exports: [SERVICE_NAME, SERVICE_CONFIG, LOGGER, DataSource, KAFKA_GATEWAY, OutboxRelay, CONSUMER_STATUS],
    };
  }
}
