import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { AuditEntrySchema, AuditListSchema, ListAuditQuerySchema } from '../audit/audit.api';
import { ApiKeyViewSchema, CreateApiKeyRequestSchema, CreatedApiKeySchema, ListApiKeysQuerySchema } from '../keys/keys.api';

type Responses = Record<string, { description: string; content: { 'application/json': { schema: unknown } } }>;

/** The key management and audit routes in the OpenAPI document, from the zod schemas that validate them. */
export function registerSecurityPaths(
  registry: OpenAPIRegistry,
  security: Record<string, string[]>[],
  errors: (...statuses: number[]) => Responses,
): void {
  registry.register('ApiKey', ApiKeyViewSchema);
  const params = z.object({ id: z.string().uuid() });
  const roles = 'Needs an `admin` key (its own tenant) or a `platform` key (any tenant).';
  registry.registerPath({
    method: 'post',
    path: '/v1/admin/keys',
    summary: 'Create an API key (shown once)',
    description: `${roles} The response holds the key itself, the only time it is shown: only its SHA-256 is stored. Only a platform key may create platform keys or keys of another tenant (\`tenant\`).`,
    security,
    request: { body: { content: { 'application/json': { schema: CreateApiKeyRequestSchema } } } },
    responses: {
      201: { description: 'The key, shown once', content: { 'application/json': { schema: CreatedApiKeySchema } } },
      ...errors(400, 401, 403, 415),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/admin/keys',
    summary: 'List managed API keys (never the keys themselves)',
    description: `${roles} \`tenant\` is for platform keys only.`,
    security,
    request: { query: ListApiKeysQuerySchema },
    responses: {
      200: { description: 'Keys', content: { 'application/json': { schema: z.object({ items: z.array(ApiKeyViewSchema) }) } } },
      ...errors(400, 401, 403),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/admin/keys/{id}',
    summary: 'One managed API key: name, role, expiry, revocation, last use',
    description: roles,
    security,
    request: { params },
    responses: {
      200: { description: 'The key', content: { 'application/json': { schema: ApiKeyViewSchema } } },
      ...errors(401, 403, 404),
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/admin/keys/{id}',
    summary: 'Revoke an API key, at once on every replica',
    description: `${roles} Revoking again keeps the first revocation.`,
    security,
    request: { params },
    responses: {
      200: { description: 'The revoked key', content: { 'application/json': { schema: ApiKeyViewSchema } } },
      ...errors(401, 403, 404),
    },
  });
  registry.register('AuditEntry', AuditEntrySchema);
  registry.registerPath({
    method: 'get',
    path: '/v1/admin/audit',
    summary: 'The audit log, newest first: who (tenant, key, role) did what to which target, when, and how it ended',
    description:
      `${roles} Every mutating action is recorded (job create, cancel, redeliver; review decisions; dead-letter replays; ` +
      'key creation and revocation; budget changes), succeeded or failed. `tenant` is for platform keys only. Entries are ' +
      'kept for TROUPE_AUDIT_RETENTION_DAYS.',
    security,
    request: { query: ListAuditQuerySchema },
    responses: {
      200: { description: 'A page of entries', content: { 'application/json': { schema: AuditListSchema } } },
      ...errors(400, 401, 403),
    },
  });
}
