import { Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ListDeadLettersQuerySchema } from '@troupe/contracts';
import { Roles, type AuthenticatedRequest } from '../auth/api-key.guard';
import { DeadLettersService } from './dead-letters.service';

/** Operators only: dead letters span tenants. HTTP only: parse, call the service. */
@Controller('v1/admin/dead-letters')
@Roles('admin')
export class DeadLettersController {
  constructor(private readonly letters: DeadLettersService) {}

  @Get()
  list(@Query() query: unknown) {
    return this.letters.list(ListDeadLettersQuerySchema.parse(query));
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.letters.get(id);
  }

  @Post(':id/replay')
  @HttpCode(202)
  replay(@Req() req: AuthenticatedRequest, @Param('id') id: string) {
    return this.letters.replay(req.principal, id);
  }
}
