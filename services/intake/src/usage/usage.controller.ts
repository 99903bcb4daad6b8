import { Controller, Get, Query, Req } from '@nestjs/common';
import { Roles, type AuthenticatedRequest } from '../auth/api-key.guard';
import { UsageQuerySchema } from './usage.api';
import { UsageService } from './usage.service';

/** HTTP only: a tenant's usage for its admins; every tenant's for the platform role. */
@Controller('v1/usage')
@Roles('admin', 'platform')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get()
  get(@Req() req: AuthenticatedRequest, @Query() query: unknown) {
    return this.usage.usage(req.principal, UsageQuerySchema.parse(query));
  }
}
