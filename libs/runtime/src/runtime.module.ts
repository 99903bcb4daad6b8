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
} from '@nestjs/common';
import { topicSpecs } from '@troupe/contracts';
import { loadConfig, type CommonConfig } from '@troupe/config';
import { KafkajsGateway, OutboxRelay, type KafkaGateway } from '@troupe/messaging';
import { createServiceDataSource, ensureDatabase, messagingMigrations, migrate } from '@troupe/persistence';
import { createLogger, metricsRegistry, shutdownTelemetry } from '@troupe/telemetry';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { ServiceDefinition } from './service-definition';
import { KAFKA_GATEWAY, LOGGER, SERVICE_CONFIG, SERVICE_NAME } from './tokens';

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
  ) {}

  /** Liveness: the process is up and its event loop answers. */
  @Get('health')
  health() {
    return { status: 'ok', service: this.service };
  }

  /** Readiness: Postgres and Kafka answer. 503 otherwise. */
  @Get('ready')
  async ready() {
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
        { status: 'not_ready', service: this.service, problems: this.lastProblems },
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    }
    return { status: 'ready', service: this.service };
  }

  /** Prometheus metrics. */
  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metrics() {
    return metricsRegistry.metrics();
  }
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
      exports: [SERVICE_NAME, SERVICE_CONFIG, LOGGER, DataSource, KAFKA_GATEWAY, OutboxRelay],
    };
  }
}
