import { type ArgumentsHost, type ExceptionFilter, HttpException, HttpStatus, NotFoundException } from '@nestjs/common';
import type { ErrorResponse } from '@troupe/contracts';
import { classifyError } from '@troupe/messaging';
import { activeTraceId } from '@troupe/telemetry';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { IntakeErrorCode, IntakeException } from './intake.exception';
import { allowedMethods } from './request-hygiene';

const CODE_BY_STATUS: Partial<Record<number, IntakeErrorCode>> = {
  400: IntakeErrorCode.VALIDATION_FAILED,
  401: IntakeErrorCode.UNAUTHENTICATED,
  403: IntakeErrorCode.FORBIDDEN,
  404: IntakeErrorCode.NOT_FOUND,
  405: IntakeErrorCode.METHOD_NOT_ALLOWED,
  413: IntakeErrorCode.PAYLOAD_TOO_LARGE,
  415: IntakeErrorCode.UNSUPPORTED_MEDIA_TYPE,
  503: IntakeErrorCode.SERVICE_UNAVAILABLE,
};

/** Turns any error into `{ error: { code, message, details } }`; unexpected ones become a logged 500. */
export function toErrorResponse(exception: unknown, logger: Logger): { status: number; body: ErrorResponse } {
  if (exception instanceof IntakeException) {
    return {
      status: exception.status,
      body: { error: { code: exception.code, message: exception.message, details: exception.details, ...exception.extra } },
    };
  }
  if (exception instanceof ZodError) {
    return {
      status: HttpStatus.BAD_REQUEST,
      body: {
        error: {
          code: IntakeErrorCode.VALIDATION_FAILED,
          message: 'the request is not valid',
          details: exception.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message })),
        },
      },
    };
  }
  // body-parser errors carry a status and a type.
  const bodyError = exception as { status?: number; type?: string; expose?: boolean };
  if (bodyError?.type === 'entity.parse.failed') {
    return { status: 400, body: { error: { code: IntakeErrorCode.MALFORMED_JSON, message: 'the body is not valid JSON' } } };
  }
  if (bodyError?.type === 'entity.too.large') {
    return {
      status: 413,
      body: { error: { code: IntakeErrorCode.PAYLOAD_TOO_LARGE, message: 'the body is larger than the limit' } },
    };
  }
  if (exception instanceof HttpException || (bodyError?.expose && bodyError.status && bodyError.status < 500)) {
    const status = exception instanceof HttpException ? exception.getStatus() : bodyError.status!;
    const response = exception instanceof HttpException ? exception.getResponse() : undefined;
    if (status === 503 && typeof response === 'object' && response && 'status' in response) {
      // readiness probe body: keep it as it is
      return { status, body: response as unknown as ErrorResponse };
    }
    const message = exception instanceof Error ? exception.message : 'request failed';
    return {
      status,
      body: { error: { code: CODE_BY_STATUS[status] ?? `HTTP_${status}`, message } },
    };
  }
  // The database or the broker did not answer: the request did nothing (its transaction did not
  // commit), so the client may simply try again; that is a 503, not a server bug.
  if (classifyError(exception) === 'infrastructure') {
    logger.warn({ err: { message: (exception as Error)?.message, code: (exception as { code?: string })?.code } }, 'dependency unavailable');
    return {
      status: HttpStatus.SERVICE_UNAVAILABLE,
      body: { error: { code: IntakeErrorCode.DEPENDENCY_UNAVAILABLE, message: 'a dependency (the database or the broker) is unreachable; nothing was done, retry later' } },
    };
  }
  logger.error({ err: exception }, 'unhandled error');
  const traceId = activeTraceId();
  return {
    status: 500,
    body: {
      error: {
        code: IntakeErrorCode.INTERNAL_ERROR,
        message: traceId ? `internal error (trace ${traceId})` : 'internal error',
      },
    },
  };
}

/** The API's error format; installed through bootstrapService's TroupeExceptionFilter. */
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const request = host.switchToHttp().getRequest<Request>();
    // Nest's router answers an unmatched method with 404; a path that exists under another method is a 405.
    if (exception instanceof NotFoundException && request?.method && /^Cannot [A-Z]+ /.test(exception.message)) {
      const allow = allowedMethods(request);
      if (allow.length > 0) {
        response.setHeader('Allow', allow.join(', '));
        response.status(405).json({
          error: { code: IntakeErrorCode.METHOD_NOT_ALLOWED, message: `${request.method} is not allowed here; use ${allow.join(', ')}` },
        });
        return;
      }
    }
    const { status, body } = toErrorResponse(exception, this.logger);
    if (status === 401) response.setHeader('WWW-Authenticate', 'Bearer');
    if (status === 503 && !response.getHeader('Retry-After')) response.setHeader('Retry-After', '5');
    response.status(status).json(body);
  }
}
