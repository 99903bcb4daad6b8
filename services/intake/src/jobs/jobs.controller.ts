import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CancelJobRequestSchema, CreateJobRequestSchema, ListJobsQuerySchema } from '@troupe/contracts';
import type { Response } from 'express';
import { Roles, type AuthenticatedRequest } from '../auth/api-key.guard';
import { Audited } from '../audit/audited.interceptor';
import { StartsJob } from '../rate-limits/rate-limit.guard';
import { JobsService } from './jobs.service';

/** HTTP only: parse, call the service, shape the response. */
@Controller('v1/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @HttpCode(202)
  @Roles('submitter')
  @StartsJob()
  @Audited('job.create', 'job', (req) => ({ workflow: (req.body as { workflow?: unknown })?.workflow }))
  async create(
    @Req() req: AuthenticatedRequest,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const request = CreateJobRequestSchema.parse(body ?? {});
    const { response, replayed } = await this.jobs.create(req.principal, request, idempotencyKey);
    res.setHeader('Location', response.links.self);
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    return response;
  }

  @Get()
  list(@Req() req: AuthenticatedRequest, @Query() query: unknown) {
    return this.jobs.list(req.principal, ListJobsQuerySchema.parse(query));
  }

  /** Re-sends a delivered or dead-lettered result (202: delivery picks it up from an event). */
  @Post(':id/redeliver')
  @Audited('job.redeliver', 'job')
  @HttpCode(202)
  @Roles('submitter')
  redeliver(@Req() req: AuthenticatedRequest, @Param('id') id: string) {
    return this.jobs.redeliver(req.principal, id);
  }

  /** Stops the job at every stage's next boundary (202: the stages act on an event). */
  @Post(':id/cancel')
  @Audited('job.cancel', 'job')
  @HttpCode(202)
  @Roles('submitter')
  cancel(@Req() req: AuthenticatedRequest, @Param('id') id: string, @Body() body: unknown) {
    return this.jobs.cancel(req.principal, id, CancelJobRequestSchema.parse(body ?? {}));
  }

  /** Erases a finished job's payloads in every service (202: the other stages act on an event). */
  @Delete(':id/data')
  @Audited('job.erase-data', 'job')
  @HttpCode(202)
  @Roles('admin')
  eraseData(@Req() req: AuthenticatedRequest, @Param('id') id: string) {
    return this.jobs.eraseData(req.principal, id);
  }

  @Get(':id')
  get(@Req() req: AuthenticatedRequest, @Param('id') id: string) {
    return this.jobs.get(req.principal, id);
  }
}
