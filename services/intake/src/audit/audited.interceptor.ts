import {
  applyDecorators,
  type CallHandler,
  type ExecutionContext,
  HttpException,
  Injectable,
  type NestInterceptor,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { from, type Observable } from 'rxjs';
import { catchError, mergeMap } from 'rxjs/operators';
import { ZodError } from 'zod';
import type { AuthenticatedRequest } from '../auth/api-key.guard';
import { IntakeException } from '../http/intake.exception';
import { AuditService } from './audit.service';

const AUDITED = 'troupe:audited';

interface AuditedOptions {
  action: string;
  targetType: string;
  /** Small, non-secret facts from the request and the answer (never a body's payload). */
  details?: (request: AuthenticatedRequest, result: unknown) => Record<string, unknown>;
}

/**
 * Marks a mutating route: its outcome (succeeded, or failed with the status and code answered) is
 * recorded in the audit log before the answer leaves. The target is the route's `:id`, else the
 * answer's `id` (a created job or key).
 */
export const Audited = (action: string, targetType: string, details?: AuditedOptions['details']) =>
  // On the route, not global: a global interceptor also wraps every consumed Kafka message (an rxjs
  // pipeline and two AsyncResource.bind each, 5 % of intake's CPU under load) only to step aside.
  applyDecorators(SetMetadata(AUDITED, { action, targetType, details } satisfies AuditedOptions), UseInterceptors(AuditInterceptor));

@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const options = this.reflector.get<AuditedOptions | undefined>(AUDITED, context.getHandler());
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!options || !request.principal) return next.handle();
    const base = { principal: request.principal, action: options.action };
    const paramId = typeof request.params?.id === 'string' ? request.params.id.slice(0, 200) : undefined;
    return next.handle().pipe(
      mergeMap((result) => {
        const id = paramId ?? (result as { id?: unknown } | undefined)?.id;
        return from(
          this.audit
            .record({
              ...base,
              target: { type: options.targetType, id: typeof id === 'string' ? id : null },
              outcome: 'succeeded',
              status: context.switchToHttp().getResponse<Response>().statusCode,
              details: options.details?.(request, result),
            })
            .then(() => result),
        );
      }),
      catchError((error: unknown) =>
        from(
          this.audit
            .record({
              ...base,
              target: { type: options.targetType, id: paramId ?? null },
              outcome: 'failed',
              status: statusOf(error),
              errorCode: codeOf(error),
            })
            .then(
              () => Promise.reject(error),
              () => Promise.reject(error),
            ),
        ),
      ),
    );
  }
}

const statusOf = (error: unknown) =>
  error instanceof IntakeException ? error.status : error instanceof HttpException ? error.getStatus() : error instanceof ZodError ? 400 : 500;
const codeOf = (error: unknown) =>
  error instanceof IntakeException ? error.code : error instanceof ZodError ? 'VALIDATION_FAILED' : error instanceof HttpException ? `HTTP_${error.getStatus()}` : 'INTERNAL_ERROR';
