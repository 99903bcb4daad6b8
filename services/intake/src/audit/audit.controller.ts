import { Controller, Get, HttpStatus, Query, Req } from '@nestjs/common';
import { isPlatform } from '../auth/api-keys';
import { Roles, type AuthenticatedRequest } from '../auth/api-key.guard';
import { IntakeErrorCode, IntakeException } from '../http/intake.exception';
import { ListAuditQuerySchema } from './audit.api';
import { AuditService } from './audit.service';

/** The audit log of the caller's tenant (admins), or of every tenant (platform), newest first. */
@Controller('v1/admin/audit')
@Roles('admin')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  async list(@Req() req: AuthenticatedRequest, @Query() raw: unknown) {
    const query = ListAuditQuerySchema.parse(raw);
    if (query.tenant !== undefined && !isPlatform(req.principal)) {
      throw new IntakeException(IntakeErrorCode.FORBIDDEN, HttpStatus.FORBIDDEN, 'only a platform key may choose the tenant');
    }
    const items = await this.audit.list({
      tenant: isPlatform(req.principal) ? query.tenant : req.principal.tenantId,
      action: query.action,
      keyId: query.keyId,
      targetId: query.targetId,
      outcome: query.outcome,
      since: query.since,
      until: query.until,
      limit: query.limit + 1,
      after: query.cursor ? decodeCursor(query.cursor) : undefined,
    });
    const page = items.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page,
      nextCursor: items.length > query.limit && last ? Buffer.from(JSON.stringify({ at: last.at, id: last.id })).toString('base64url') : null,
    };
  }
}

function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const { at, id } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { at: unknown; id: unknown };
    if (typeof at === 'string' && !Number.isNaN(Date.parse(at)) && typeof id === 'string' && /^\d{1,19}$/.test(id)) return { at, id };
  } catch {
    // fall through
  }
  throw new IntakeException(IntakeErrorCode.INVALID_CURSOR, HttpStatus.BAD_REQUEST, 'cursor is not valid');
}
