import { type CanActivate, type ExecutionContext, HttpStatus, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { bearerMatches, METRICS_AUTHORIZED, SERVICE_CONFIG } from '@troupe/runtime';
import type { Request } from 'express';
import type { IntakeConfig } from '../intake.config';
import { IntakeErrorCode, IntakeException } from '../http/intake.exception';
import { KeysService } from '../keys/keys.service';
import { hasRole, type Principal, type Role } from './api-keys';

const PUBLIC = 'troupe:public';
const ROLES_KEY = 'troupe:roles';

/** Marks a route as reachable without a key (health probes only). */
export const Public = () => SetMetadata(PUBLIC, true);
/** Restricts a route to some roles; `admin` and `platform` may do everything. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

export type AuthenticatedRequest = Request & { principal: Principal };

/** `Authorization: Bearer <key>` on every route except probes. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(KeysService) private readonly keys: KeysService,
    @Inject(SERVICE_CONFIG) config: IntakeConfig,
  ) {
    this.metricsToken = config.TROUPE_METRICS_TOKEN;
  }

  private readonly metricsToken?: string;

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets) || isProbe(request.path)) return true;
    // A scraper holding the metrics token needs no API key (the probes controller checks the token).
    if (request.path === '/metrics' && this.metricsToken && bearerMatches(request.headers.authorization, this.metricsToken)) return true;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const principal = match ? await this.keys.authenticate(match[1]) : undefined;
    if (!principal) {
      throw new IntakeException(
        IntakeErrorCode.UNAUTHENTICATED,
        HttpStatus.UNAUTHORIZED,
        'a valid API key is required as `Authorization: Bearer <key>`',
      );
    }
    const roles =
      request.path === '/metrics' ? (['admin'] as Role[]) : this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (roles && !hasRole(principal, roles)) {
      throw new IntakeException(
        IntakeErrorCode.FORBIDDEN,
        HttpStatus.FORBIDDEN,
        `this operation needs the role ${roles.join(' or ')}`,
      );
    }
    request.principal = principal;
    if (request.path === '/metrics') (request as unknown as Record<symbol, boolean>)[METRICS_AUTHORIZED] = true;
    return true;
  }
}

// The shared runtime serves /health and /ready; /metrics stays behind a key on the public API.
const isProbe = (path: string) => path === '/health' || path === '/ready';
