import { randomBytes, randomUUID } from 'node:crypto';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { LOGGER, SERVICE_CONFIG } from '@troupe/runtime';
import type { Logger } from 'pino';
import { hashApiKey, isPlatform, parseApiKeys, type Principal } from '../auth/api-keys';
import { IntakeErrorCode, IntakeException } from '../http/intake.exception';
import type { IntakeConfig } from '../intake.config';
import type { ApiKeyView, CreateApiKeyRequest, ListApiKeysQuery } from './keys.api';
import { KeysRepository } from './keys.repository';

/** Managed keys start so: a lookup in Postgres is only made for keys that can be there. */
export const MANAGED_KEY_PREFIX = 'trp_';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Who a presented key is: the configured keys (`TROUPE_API_KEYS`, in memory) or a managed key (in
 * Postgres, looked up on each request so that a revocation or an expiry holds at once on every
 * replica). Keys themselves are never stored, logged or returned after creation.
 */
@Injectable()
export class KeysService {
  private readonly configured: Map<string, Principal>;

  constructor(
    private readonly keys: KeysRepository,
    @Inject(SERVICE_CONFIG) config: IntakeConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.configured = parseApiKeys(config.TROUPE_API_KEYS);
  }

  async authenticate(presented: string): Promise<Principal | undefined> {
    const hash = hashApiKey(presented);
    const configured = this.configured.get(hash);
    if (configured || !presented.startsWith(MANAGED_KEY_PREFIX)) return configured;
    let key: Awaited<ReturnType<KeysRepository['findUsable']>>;
    try {
      key = await this.keys.findUsable(hash);
    } catch (error) {
      this.logger.warn({ err: error }, 'managed key lookup failed');
      throw new IntakeException(IntakeErrorCode.DEPENDENCY_UNAVAILABLE, HttpStatus.SERVICE_UNAVAILABLE, 'keys cannot be checked right now');
    }
    if (!key) return undefined;
    if (!key.lastUsedRecently) {
      this.keys.touch(key.id).catch((err: unknown) => this.logger.warn({ err, keyId: key.id }, 'last-used update failed'));
    }
    return { tenantId: key.tenantId, role: key.role, keyId: key.id, rateLimit: key.rateLimit };
  }

  async create(principal: Principal, body: CreateApiKeyRequest): Promise<ApiKeyView & { key: string }> {
    if (body.role === 'platform' && !isPlatform(principal)) {
      throw forbidden('only a platform key may create platform keys');
    }
    if (body.tenant !== undefined && body.tenant !== principal.tenantId && !isPlatform(principal)) {
      throw forbidden('only a platform key may create keys of another tenant');
    }
    const key = `${MANAGED_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const view = await this.keys.insert({
      id: randomUUID(),
      tenantId: body.tenant ?? principal.tenantId,
      name: body.name,
      role: body.role,
      hash: hashApiKey(key),
      prefix: key.slice(0, MANAGED_KEY_PREFIX.length + 6),
      rateLimit: body.rateLimit ?? {},
      createdBy: by(principal),
      expiresAt: body.expiresAt ? new Date(body.expiresAt).toISOString() : null,
    });
    return { ...view, key };
  }

  async list(principal: Principal, query: ListApiKeysQuery): Promise<{ items: ApiKeyView[] }> {
    if (query.tenant !== undefined && !isPlatform(principal)) throw forbidden('only a platform key may choose the tenant');
    const tenant = isPlatform(principal) ? query.tenant : principal.tenantId;
    return { items: await this.keys.list(tenant, query.revoked === undefined ? undefined : query.revoked === 'true') };
  }

  async get(principal: Principal, id: string): Promise<ApiKeyView> {
    const key = UUID.test(id) ? await this.keys.find(scope(principal), id) : undefined;
    if (!key) throw notFound(id);
    return key;
  }

  /** Effective on the next request everywhere: every request looks its managed key up. */
  async revoke(principal: Principal, id: string): Promise<ApiKeyView> {
    const key = UUID.test(id) ? await this.keys.revoke(scope(principal), id, by(principal)) : undefined;
    if (!key) throw notFound(id);
    return key;
  }
}

const scope = (principal: Principal) => (isPlatform(principal) ? undefined : principal.tenantId);
const by = (principal: Principal) => `${principal.tenantId}:${principal.role}:${principal.keyId}`;
const forbidden = (message: string) => new IntakeException(IntakeErrorCode.FORBIDDEN, HttpStatus.FORBIDDEN, message);
const notFound = (id: string) => new IntakeException(IntakeErrorCode.API_KEY_NOT_FOUND, HttpStatus.NOT_FOUND, `no API key ${id}`);
