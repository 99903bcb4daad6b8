import { createHash } from 'node:crypto';

/**
 * `admin` may do everything within its tenant; `platform` is the operator of the installation: it
 * passes every role check and sees across tenants where a route offers it (dead letters, audit).
 */
export const ROLES = ['submitter', 'reviewer', 'admin', 'platform'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: resolved from the API key. Every job and event carries the tenant id. */
export interface Principal {
  tenantId: string;
  role: Role;
  /** A short, non-secret fingerprint of the key (configured keys) or the key's id (managed keys), for audit logs. */
  keyId: string;
  /** A managed key's own limits; configured keys use the defaults. */
  rateLimit?: import('../keys/keys.api').RateLimitSettings;
}

/** Passes a route restricted to `roles`: the role itself, or admin / platform (which may do everything). */
export const hasRole = (principal: Principal, roles: readonly Role[]) =>
  principal.role === 'admin' || principal.role === 'platform' || roles.includes(principal.role);

/** Sees every tenant's rows on the routes that offer a cross-tenant view. */
export const isPlatform = (principal: Principal) => principal.role === 'platform';

export const hashApiKey = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');

/**
 * Parses `TROUPE_API_KEYS` (`<tenant>:<role>:<key | sha256=hex>`, comma-separated) into a table of
 * key hashes. Plain keys are hashed here and not kept.
 */
export function parseApiKeys(spec: string): Map<string, Principal> {
  const table = new Map<string, Principal>();
  for (const [index, raw] of spec.split(',').entries()) {
    const entry = raw.trim();
    if (!entry) continue;
    const [tenantId, role, ...rest] = entry.split(':');
    const secret = rest.join(':');
    const where = `TROUPE_API_KEYS entry ${index + 1}`;
    if (!tenantId || !role || !secret) throw new Error(`${where}: expected <tenant>:<role>:<key>`);
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(tenantId)) throw new Error(`${where}: tenant id must be 1-64 of [A-Za-z0-9_.-]`);
    if (!(ROLES as readonly string[]).includes(role)) throw new Error(`${where}: role must be one of ${ROLES.join(', ')}`);
    let hash: string;
    if (secret.startsWith('sha256=')) {
      hash = secret.slice('sha256='.length).toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`${where}: sha256= must be followed by 64 hex digits`);
    } else {
      if (secret.length < 16) throw new Error(`${where}: keys must be at least 16 characters`);
      hash = hashApiKey(secret);
    }
    table.set(hash, { tenantId, role: role as Role, keyId: hash.slice(0, 8) });
  }
  if (table.size === 0) throw new Error('TROUPE_API_KEYS: no keys configured');
  return table;
}

/**
 * Looks a presented key up by its SHA-256. Comparing hashes rather than keys means lookup timing
 * reveals nothing usable about a key.
 */
export function authenticate(table: Map<string, Principal>, presented: string): Principal | undefined {
  return table.get(hashApiKey(presented));
}
