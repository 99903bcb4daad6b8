import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { Roles, type AuthenticatedRequest } from '../auth/api-key.guard';
import { CreateApiKeyRequestSchema, ListApiKeysQuerySchema } from './keys.api';
import { Audited } from '../audit/audited.interceptor';
import { KeysService } from './keys.service';

/** Managed API keys of the caller's tenant (admins), or of any tenant (platform). HTTP only. */
@Controller('v1/admin/keys')
@Roles('admin')
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  /** 201 with the key itself: the only time it is shown. */
  @Post()
  @HttpCode(201)
  @Audited('key.create', 'api-key', (_req, key) => {
    const k = key as { name?: string; role?: string; tenantId?: string } | undefined;
    return k ? { name: k.name, role: k.role, keyTenant: k.tenantId } : {};
  })
  create(@Req() req: AuthenticatedRequest, @Body() body: unknown) {
    return this.keys.create(req.principal, CreateApiKeyRequestSchema.parse(body ?? {}));
  }

  @Get()
  list(@Req() req: AuthenticatedRequest, @Query() query: unknown) {
    return this.keys.list(req.principal, ListApiKeysQuerySchema.parse(query));
  }

  @Get(':id')
  get(@Req() req: AuthenticatedRequest, @Param('id') id: string) {
    return this.keys.get(req.principal, id);
  }

  /** Revokes the key: refused from the next request on, on every replica. */
  @Delete(':id')
  @Audited('key.revoke', 'api-key')
  revoke(@Req() req: AuthenticatedRequest, @Param('id') id: string) {
    return this.keys.revoke(req.principal, id);
  }
}
