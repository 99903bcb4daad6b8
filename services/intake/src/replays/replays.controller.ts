import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CreateReplayRequestSchema, ListReplaysQuerySchema } from '@troupe/contracts';
import type { Response } from 'express';
import { Audited } from '../audit/audited.interceptor';
import { Roles, type AuthenticatedRequest } from '../auth/api-key.guard';
import { ReplaysService } from './replays.service';

/** HTTP only: replays of past jobs as shadow jobs, and their reports. */
@Controller('v1/replays')
export class ReplaysController {
  constructor(private readonly replays: ReplaysService) {}

  /**
   * Admin: shadow jobs spend provider money outside the budgets (unless `chargeBudget`). They do not
   * count against the tenant's jobs in flight: a replay must not hold back its real traffic.
   */
  @Post()
  @HttpCode(201)
  @Roles('admin')
  @Audited('replay.create', 'replay', (req) => {
    const body = (req.body ?? {}) as { target?: unknown; jobs?: unknown[]; window?: unknown; chargeBudget?: unknown };
    return { target: body.target, jobs: Array.isArray(body.jobs) ? body.jobs.length : undefined, window: body.window, chargeBudget: body.chargeBudget };
  })
  async create(@Req() req: AuthenticatedRequest, @Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    const replay = await this.replays.create(req.principal, CreateReplayRequestSchema.parse(body ?? {}));
    res.setHeader('Location', replay.links.self);
    return replay;
  }

  @Get()
  list(@Req() req: AuthenticatedRequest, @Query() query: unknown) {
    return this.replays.list(req.principal, ListReplaysQuerySchema.parse(query).limit);
  }

  /** The replay and its report, complete once every shadow job has finished. */
  @Get(':id')
  get(@Req() req: AuthenticatedRequest, @Param('id') id: string) {
    return this.replays.get(req.principal, id);
  }
}
