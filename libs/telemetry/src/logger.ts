import type { LoggerService } from '@nestjs/common';
import { context, trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';

/** Keys whose values never reach a log line. */
const REDACT = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'token',
  '*.token',
];

/** JSON logs to stdout, each line carrying the active trace and span ids. */
export function createLogger(service: string, level = process.env.TROUPE_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const span = trace.getSpan(context.active());
      if (!span) return {};
      const { traceId, spanId } = span.spanContext();
      return { trace_id: traceId, span_id: spanId };
    },
  });
}

/** Adapts pino to NestJS's LoggerService so Nest's own messages are JSON too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, ctx?: string) {
    this.logger.info({ context: ctx }, String(message));
  }
  error(message: unknown, trace?: string, ctx?: string) {
    this.logger.error({ context: ctx, stack: trace }, String(message));
  }
  warn(message: unknown, ctx?: string) {
    this.logger.warn({ context: ctx }, String(message));
  }
  debug(message: unknown, ctx?: string) {
    this.logger.debug({ context: ctx }, String(message));
  }
  verbose(message: unknown, ctx?: string) {
    this.logger.trace({ context: ctx }, String(message));
  }
}
