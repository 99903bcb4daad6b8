import { Controller, Get, Inject, Req } from '@nestjs/common';
import { SERVICE_CONFIG } from '@troupe/runtime';
import type { AuthenticatedRequest } from '../auth/api-key.guard';
import type { IntakeConfig } from '../intake.config';

/** What the console needs at sign-in: who the key is, and this deployment's links (behind a key like every route). */
@Controller('v1/console')
export class ConsoleController {
  constructor(@Inject(SERVICE_CONFIG) private readonly config: IntakeConfig) {}

  @Get('config')
  get(@Req() req: AuthenticatedRequest) {
    return {
      principal: { tenantId: req.principal.tenantId, role: req.principal.role },
      jaegerUrl: this.config.TROUPE_JAEGER_URL ?? null,
    };
  }
}
