import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { UsageQuerySchema, UsageResponseSchema } from '../usage/usage.api';
import { BudgetRefusalSchema, BudgetViewSchema, CreateBudgetRequestSchema } from './budgets.api';

type Responses = Record<string, { description: string; content: { 'application/json': { schema: unknown } } }>;

/** Budget and usage routes in the OpenAPI document, from the zod schemas that validate them. */
export function registerBudgetPaths(
  registry: OpenAPIRegistry,
  security: Record<string, string[]>[],
  errors: (...statuses: number[]) => Responses,
): void {
  registry.register('Budget', BudgetViewSchema);
  registry.register('BudgetRefusal', BudgetRefusalSchema);
  const admin = 'Needs the role `admin`; budgets are the caller’s tenant’s.';
  registry.registerPath({
    method: 'post',
    path: '/v1/admin/budgets',
    summary: 'Create a budget (admin)',
    description:
      `${admin} A budget caps what the tenant’s jobs may cost per period (day, month, or none), optionally only the ` +
      'jobs of one workflow (`workflowId`) or of one API key (`keyId`). Every job reserves its upper bound at ' +
      'submission; one that does not fit is refused with 402 `BUDGET_EXCEEDED` (see docs/budgets.md). 409 ' +
      '`BUDGET_NAME_TAKEN` for a name the tenant uses already.',
    security,
    request: { body: { content: { 'application/json': { schema: CreateBudgetRequestSchema } } } },
    responses: {
      201: { description: 'The budget', content: { 'application/json': { schema: BudgetViewSchema } } },
      ...errors(400, 401, 403, 409),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/admin/budgets',
    summary: 'List the tenant’s budgets with their current period (admin)',
    description: admin,
    security,
    responses: {
      200: { description: 'Budgets', content: { 'application/json': { schema: z.object({ items: z.array(BudgetViewSchema) }) } } },
      ...errors(401, 403),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/admin/budgets/{id}',
    summary: 'Get a budget: limit, thresholds, spent, reserved and remaining this period (admin)',
    description: admin,
    security,
    request: { params: z.object({ id: z.string().uuid() }) },
    responses: {
      200: { description: 'The budget', content: { 'application/json': { schema: BudgetViewSchema } } },
      ...errors(401, 403, 404),
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/admin/budgets/{id}',
    summary: 'Delete a budget (admin); its open reservations go with it',
    description: admin,
    security,
    request: { params: z.object({ id: z.string().uuid() }) },
    responses: { 204: { description: 'Deleted' } as never, ...errors(401, 403, 404) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/usage',
    summary: 'Usage: jobs, outcomes, tokens, cost, cost per successful job, latency and SLO attainment',
    description:
      'Needs the role `admin` (the caller’s tenant) or `platform` (any tenant: `tenant=<id>`, or all by default). ' +
      'Jobs created in [`from`, `to`) (default: the last 30 days, at most 400), grouped by `workflow`, `model`, ' +
      '`key` (the submitting API key’s id) or `day` (UTC). Cost is every model call of the jobs (all tries, ' +
      'fallbacks, steps and regenerations, failed jobs’ included); `costPerSuccessfulJobUsd` divides it by the ' +
      'delivered jobs. Latency is acceptance to delivery of delivered jobs. `slo` appears for workflows that declare `objectives`.',
    security,
    request: { query: UsageQuerySchema },
    responses: {
      200: { description: 'Usage', content: { 'application/json': { schema: UsageResponseSchema } } },
      ...errors(400, 401, 403),
    },
  });
}
