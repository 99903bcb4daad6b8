import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ListReviewsQuerySchema, ReviewDecisionRequestSchema } from '@troupe/contracts';
import { Roles, type AuthenticatedRequest } from '../auth/api-key.guard';
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

  @Get(':id')
  get(@Req() req: AuthenticatedRequest, @Param('id') id: string) {
    return this.reviews.get(req.principal, id);
  }

  @Post(':id/decision')
  @HttpCode(202)
  decide(@Req() req: AuthenticatedRequest, @Param('id') id: string, @Body() body: unknown) {
    return this.reviews.decide(req.principal, id, ReviewDecisionRequestSchema.parse(body ?? {}));
  }
}
