import { readFileSync } from 'node:fs';
import type { CommonConfig } from '@troupe/config';
import type { SASLOptions } from 'kafkajs';

type KafkaSecurityConfig = Pick<
  CommonConfig,
  'TROUPE_KAFKA_SSL' | 'TROUPE_KAFKA_SSL_CA_FILE' | 'TROUPE_KAFKA_SASL_MECHANISM' | 'TROUPE_KAFKA_SASL_USERNAME' | 'TROUPE_KAFKA_SASL_PASSWORD'
>;

/**
 * TLS and SASL options for kafkajs from configuration: TLS verifies the brokers' certificates
 * (against TROUPE_KAFKA_SSL_CA_FILE when given, else the system's CAs); SASL authenticates the
 * service. SASL without TLS (SASL_PLAINTEXT) is allowed but exposes the exchange to the network.
 */
export function kafkaConnectionOptions(config: KafkaSecurityConfig): { ssl?: { ca?: string[]; rejectUnauthorized: true }; sasl?: SASLOptions } {
  const mechanism = config.TROUPE_KAFKA_SASL_MECHANISM;
  if (mechanism && (!config.TROUPE_KAFKA_SASL_USERNAME || !config.TROUPE_KAFKA_SASL_PASSWORD)) {
    throw new Error('TROUPE_KAFKA_SASL_MECHANISM needs TROUPE_KAFKA_SASL_USERNAME and TROUPE_KAFKA_SASL_PASSWORD');
  }
  const ssl = config.TROUPE_KAFKA_SSL
    ? {
        ...(config.TROUPE_KAFKA_SSL_CA_FILE ? { ca: [readFileSync(config.TROUPE_KAFKA_SSL_CA_FILE, 'utf8')] } : {}),
        rejectUnauthorized: true as const,
      }
    : undefined;
  const sasl = mechanism
    ? ({ mechanism, username: config.TROUPE_KAFKA_SASL_USERNAME!, password: config.TROUPE_KAFKA_SASL_PASSWORD! } as SASLOptions)
    : undefined;
  return { ssl, sasl };
}

/**
 * The consumer group's session and heartbeat from configuration: heartbeats at most a third of the
 * session, so two can be lost before the broker gives the member up.
 */
export function groupTiming(config: CommonConfig): { sessionTimeoutMs: number; heartbeatIntervalMs: number } {
  const sessionTimeoutMs = config.TROUPE_KAFKA_SESSION_TIMEOUT_MS;
  return { sessionTimeoutMs, heartbeatIntervalMs: Math.min(config.TROUPE_KAFKA_HEARTBEAT_INTERVAL_MS, Math.floor(sessionTimeoutMs / 3)) };
}
