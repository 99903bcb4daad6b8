import { Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ListDeadLettersQuerySchema } from '@troupe/contracts';
import { Roles, type AuthenticatedRequest } from '../auth/api-key.guard';
import { Audited } from '../audit/audited.interceptor';
import { DeadLettersService } from './dead-letters.service';

/** Admins see their tenant's letters, platform operators every tenant's. HTTP only: parse, call the service. */
@Controller('v1/admin/dead-letters')
@Roles('admin')
export class DeadLettersController {
  constructor(private readonly letters: DeadLettersService) {}

  @Get()
  list(@Req() req: AuthenticatedRequest, @Query() query: unknown) {
    return this.letters.list(req.principal, ListDeadLettersQuerySchema.parse(query));
  }

  @Get(':id')
  get(@Req() req: AuthenticatedRequest, @Param('id') id: string) {
    return this.letters.get(req.principal, id);
  }

  @Post(':id/replay')
  @Audited('dead-letter.replay', 'dead-letter')
  @HttpCode(202)
  replay(@Req() req: AuthenticatedRequest, @Param('id') id: string) {
    return this.letters.replay(req.principal, id);
  }
}
