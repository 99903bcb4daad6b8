import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Role } from '../auth/api-keys';
import type { ApiKeyView, RateLimitSettings } from './keys.api';

interface Raw {
  id: string;
  tenant_id: string;
  name: string;
  role: Role;
  key_prefix: string;
  rate_limit: RateLimitSettings;
  created_at: Date;
  created_by: string;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const COLUMNS = 'id, tenant_id, name, role, key_prefix, rate_limit, created_at, created_by, expires_at, revoked_at, last_used_at';

const toView = (r: Raw): ApiKeyView => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  role: r.role,
  prefix: r.key_prefix,
  rateLimit: r.rate_limit,
  createdAt: r.created_at.toISOString(),
  createdBy: r.created_by,
  expiresAt: r.expires_at?.toISOString() ?? null,
  revokedAt: r.revoked_at?.toISOString() ?? null,
  lastUsedAt: r.last_used_at?.toISOString() ?? null,
});

@Injectable()
export class KeysRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(k: {
    id: string;
    tenantId: string;
    name: string;
    role: Role;
    hash: string;
    prefix: string;
    rateLimit: RateLimitSettings;
    createdBy: string;
    expiresAt: string | null;
  }): Promise<ApiKeyView> {
    const rows: Raw[] = await this.dataSource.query(
      `INSERT INTO api_keys (id, tenant_id, name, role, key_hash, key_prefix, rate_limit, created_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
      [k.id, k.tenantId, k.name, k.role, k.hash, k.prefix, JSON.stringify(k.rateLimit), k.createdBy, k.expiresAt],
    );
    return toView(rows[0]);
  }

  /** The live key with this hash: neither revoked nor expired, as of this statement. */
  async findUsable(hash: string): Promise<(ApiKeyView & { lastUsedRecently: boolean }) | undefined> {
    const rows: (Raw & { recent: boolean })[] = await this.dataSource.query(
      `SELECT ${COLUMNS}, coalesce(last_used_at > now() - interval '1 minute', false) AS recent FROM api_keys
        WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
      [hash],
    );
    return rows[0] && { ...toView(rows[0]), lastUsedRecently: rows[0].recent };
  }

  /** Last use, to the minute: one write per key and minute, not one per request. */
  async touch(id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= now() - interval '1 minute')`,
      [id],
    );
  }

  /** `tenant` undefined: every tenant's (platform operators). */
  async list(tenant: string | undefined, revoked: boolean | undefined): Promise<ApiKeyView[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (tenant !== undefined) where.push(`tenant_id = $${params.push(tenant)}`);
    if (revoked !== undefined) where.push(revoked ? 'revoked_at IS NOT NULL' : 'revoked_at IS NULL');
    const rows: Raw[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM api_keys ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT 1000`,
      params,
    );
    return rows.map(toView);
  }

  async find(tenant: string | undefined, id: string): Promise<ApiKeyView | undefined> {
    const rows: Raw[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM api_keys WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)`,
      [id, tenant ?? null],
    );
    return rows[0] && toView(rows[0]);
  }

  /** Revokes once; revoking again keeps the first time. */
  async revoke(tenant: string | undefined, id: string, by: string): Promise<ApiKeyView | undefined> {
    // TypeORM answers an UPDATE ... RETURNING with [rows, count].
    const [rows]: [Raw[], number] = await this.dataSource.query(
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()), revoked_by = coalesce(revoked_by, $3)
        WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2) RETURNING ${COLUMNS}`,
      [id, tenant ?? null, by],
    );
    return rows[0] && toView(rows[0]);
  }
}
