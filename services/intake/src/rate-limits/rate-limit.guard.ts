import { type CanActivate, type ExecutionContext, HttpStatus, Inject, Injectable, Logger, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SERVICE_CONFIG } from '@troupe/runtime';
import type { Response } from 'express';
import type { AuthenticatedRequest } from '../auth/api-key.guard';
import { IntakeErrorCode, IntakeException } from '../http/intake.exception';
import type { IntakeConfig } from '../intake.config';
import { RateLimiter, type RateDecision, type RatePolicy } from './rate-limiter';

const STARTS_JOB = 'troupe:starts-job';
/** Marks the route that starts a job: it also counts against the tenant's jobs in flight. */
export const StartsJob = () => SetMetadata(STARTS_JOB, true);

/**
 * Requests per second (with bursts) per key and per tenant, and jobs in flight per tenant, shared by
 * every replica through Postgres. Answers carry the IETF `RateLimit-Policy` and `RateLimit` fields
 * (draft-ietf-httpapi-ratelimit-headers); a refusal is a 429 with `Retry-After`. Runs after the key
 * guard: only authenticated requests are counted, so nobody can spend another's budget.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiter,
    @Inject(SERVICE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = request.principal;
    if (!principal) return true; // a probe
    const policies = this.policies(principal);
    const decisions: RateDecision[] = [];
    try {
      for (const policy of policies) {
        const decision = await this.limiter.take(policy);
        decisions.push(decision);
        if (!decision.allowed) break;
      }
    } catch (error) {
      new Logger('RateLimitGuard').warn(`rate limits cannot be checked: ${(error as Error).message}`);
      throw new IntakeException(IntakeErrorCode.DEPENDENCY_UNAVAILABLE, HttpStatus.SERVICE_UNAVAILABLE, 'rate limits cannot be checked right now');
    }
    const response = context.switchToHttp().getResponse<Response>();
    if (decisions.length > 0) {
      response.setHeader('RateLimit-Policy', policies.map((p) => `"${p.name}";q=${p.burst};w=${Math.max(1, Math.ceil(p.burst / p.requestsPerSecond))}`).join(', '));
      response.setHeader('RateLimit', decisions.map((d) => `"${d.policy.name}";r=${d.remaining};t=${d.resetSeconds}`).join(', '));
    }
    const refused = decisions.find((d) => !d.allowed);
    if (refused) {
      response.setHeader('Retry-After', String(refused.resetSeconds));
      throw new IntakeException(
        IntakeErrorCode.RATE_LIMITED,
        HttpStatus.TOO_MANY_REQUESTS,
        `the ${refused.policy.name}'s rate limit of ${refused.policy.requestsPerSecond}/s (bursts of ${refused.policy.burst}) is reached; retry in ${refused.resetSeconds} s`,
      );
    }
    const maxJobs = this.config.TROUPE_RATE_LIMIT_TENANT_JOBS_IN_FLIGHT;
    if (maxJobs > 0 && request.method === 'POST' && this.reflector.get<boolean>(STARTS_JOB, context.getHandler())) {
      const inFlight = await this.limiter.jobsInFlight(principal.tenantId, maxJobs);
      if (inFlight >= maxJobs) {
        response.setHeader('Retry-After', '1');
        throw new IntakeException(
          IntakeErrorCode.TOO_MANY_JOBS_IN_FLIGHT,
          HttpStatus.TOO_MANY_REQUESTS,
          `the tenant has ${maxJobs} jobs in flight, its limit; retry when one finishes`,
        );
      }
    }
    return true;
  }

  private policies(principal: AuthenticatedRequest['principal']): RatePolicy[] {
    const c = this.config;
    const policies: RatePolicy[] = [];
    const keyRate = principal.rateLimit?.requestsPerSecond ?? c.TROUPE_RATE_LIMIT_KEY_RPS;
    if (keyRate > 0) {
      policies.push({
        name: 'key',
        subject: `key:${principal.tenantId}:${principal.keyId}`,
        requestsPerSecond: keyRate,
        burst: principal.rateLimit?.burst ?? c.TROUPE_RATE_LIMIT_KEY_BURST ?? Math.max(1, Math.ceil(keyRate * 2)),
      });
    }
    if (c.TROUPE_RATE_LIMIT_TENANT_RPS > 0) {
      policies.push({
        name: 'tenant',
        subject: `tenant:${principal.tenantId}`,
        requestsPerSecond: c.TROUPE_RATE_LIMIT_TENANT_RPS,
        burst: c.TROUPE_RATE_LIMIT_TENANT_BURST ?? Math.max(1, Math.ceil(c.TROUPE_RATE_LIMIT_TENANT_RPS * 2)),
      });
    }
    return policies;
  }
}
