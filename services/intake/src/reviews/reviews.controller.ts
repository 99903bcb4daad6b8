import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ExportReviewsQuerySchema, ListReviewsQuerySchema, ReviewDecisionRequestSchema } from '@troupe/contracts';
import { Roles, type AuthenticatedRequest } from '../auth/api-key.guard';
import { Audited } from '../audit/audited.interceptor';
import { ReviewsService } from './reviews.service';

/** HTTP only: the review queue of the caller's tenant, for reviewers (and admins). */
@Controller('v1/reviews')
@Roles('reviewer')
export class ReviewsController {
  constructor(private readonly reviews: ReviewsService) {}

  @Get()
  list(@Req() req: AuthenticatedRequest, @Query() query: unknown) {
    return this.reviews.list(req.principal, ListReviewsQuerySchema.parse(query));
  }

  /** Decided reviews as JSONL, one evaluation example a line (declared before `:id`). */
  @Get('export')
  async export(@Req() req: AuthenticatedRequest, @Query() query: unknown, @Res() res: Response) {
    const examples = await this.reviews.export(req.principal, ExportReviewsQuerySchema.parse(query));
    res.type('application/x-ndjson').send(examples.map((e) => JSON.stringify(e) + '\n').join(''));
  }

  @Get(':id')
  get(@Req() req: AuthenticatedRequest, @Param('id') id: string) {
    return this.reviews.get(req.principal, id);
  }

  @Post(':id/decision')
  @Audited('review.decide', 'review', (req) => ({ decision: (req.body as { decision?: unknown })?.decision }))
  @HttpCode(202)
  decide(@Req() req: AuthenticatedRequest, @Param('id') id: string, @Body() body: unknown) {
    return this.reviews.decide(req.principal, id, ReviewDecisionRequestSchema.parse(body ?? {}));
  }
}
