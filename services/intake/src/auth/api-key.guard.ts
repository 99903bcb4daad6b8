import { type CanActivate, type ExecutionContext, HttpStatus, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SERVICE_CONFIG } from '@troupe/runtime';
import type { Request } from 'express';
import type { IntakeConfig } from '../intake.config';
import { IntakeErrorCode, IntakeException } from '../http/intake.exception';
import { authenticate, parseApiKeys, type Principal, type Role } from './api-keys';

const PUBLIC = 'troupe:public';
const ROLES_KEY = 'troupe:roles';

/** Marks a route as reachable without a key (health probes only). */
export const Public = () => SetMetadata(PUBLIC, true);
/** Restricts a route to some roles; `admin` may do everything. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

export type AuthenticatedRequest = Request & { principal: Principal };

/** `Authorization: Bearer <key>` on every route except probes. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: Map<string, Principal>;

  constructor(
    private readonly reflector: Reflector,
    @Inject(SERVICE_CONFIG) config: IntakeConfig,
  ) {
    this.keys = parseApiKeys(config.TROUPE_API_KEYS);
  }

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets) || isProbe(request.path)) return true;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const principal = match ? authenticate(this.keys, match[1]) : undefined;
    if (!principal) {
      throw new IntakeException(
        IntakeErrorCode.UNAUTHENTICATED,
        HttpStatus.UNAUTHORIZED,
        'a valid API key is required as `Authorization: Bearer <key>`',
      );
    }
    const roles =
      request.path === '/metrics' ? (['admin'] as Role[]) : this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (roles && principal.role !== 'admin' && !roles.includes(principal.role)) {
      throw new IntakeException(
        IntakeErrorCode.FORBIDDEN,
        HttpStatus.FORBIDDEN,
        `this operation needs the role ${roles.join(' or ')}`,
      );
    }
    request.principal = principal;
    return true;
  }
}

// The shared runtime serves /health and /ready; /metrics stays behind a key on the public API.
const isProbe = (path: string) => path === '/health' || path === '/ready';
