import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { Audited } from '../audit/audited.interceptor';
import { Roles, type AuthenticatedRequest } from '../auth/api-key.guard';
import { CreateBudgetRequestSchema } from './budgets.api';
import { BudgetsService } from './budgets.service';

/** HTTP only: the tenant's budgets, for its admins. */
@Controller('v1/admin/budgets')
@Roles('admin')
export class BudgetsController {
  constructor(private readonly budgets: BudgetsService) {}

  @Post()
  @HttpCode(201)
  @Audited('budget.create', 'budget', (req) => {
    const body = (req.body ?? {}) as { name?: unknown; limitUsd?: unknown; period?: unknown };
    return { name: body.name, limitUsd: body.limitUsd, period: body.period };
  })
  create(@Req() req: AuthenticatedRequest, @Body() body: unknown) {
    return this.budgets.create(req.principal, CreateBudgetRequestSchema.parse(body ?? {}));
  }

  @Get()
  list(@Req() req: AuthenticatedRequest) {
    return this.budgets.list(req.principal);
  }

  @Get(':id')
  get(@Req() req: AuthenticatedRequest, @Param('id') id: string) {
    return this.budgets.get(req.principal, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @Audited('budget.delete', 'budget')
  async remove(@Req() req: AuthenticatedRequest, @Param('id') id: string) {
    await this.budgets.remove(req.principal, id);
  }
}
