import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { CreateReplayRequestSchema, ListReplaysQuerySchema, ReplayListSchema, ReplayReportSchema, ReplayViewSchema } from '@troupe/contracts';
import { z } from 'zod';

type Responses = Record<string, { description: string; content: { 'application/json': { schema: unknown } } }>;

/** Replay routes in the OpenAPI document, from the zod schemas that validate them. */
export function registerReplayPaths(
  registry: OpenAPIRegistry,
  security: Record<string, string[]>[],
  errors: (...statuses: number[]) => Responses,
): void {
  registry.register('Replay', ReplayViewSchema);
  registry.register('ReplayReport', ReplayReportSchema);
  registry.registerPath({
    method: 'post',
    path: '/v1/replays',
    summary: 'Re-run past jobs as shadow jobs on another workflow version, model or prompt (admin)',
    description:
      'Needs the role `admin`. Selects past jobs of one workflow (`jobs` by id, or a `window`: workflow, time range, ' +
      'label, status, limit; by default the finished ones) and creates one shadow job per job, all in one transaction. ' +
      'Shadow jobs run through every stage but are delivered nowhere (no webhook, no result topic), are never held ' +
      'for review (the report says when the rules would have held them), do not appear in job listings or usage, and ' +
      'reserve against no budget unless `chargeBudget` is true (then 402 `BUDGET_EXCEEDED` creates none). Jobs whose ' +
      'data was erased are `skipped`. 404 `JOB_NOT_FOUND` for an id that is not the tenant’s; 422 `REPLAY_NO_JOBS`, ' +
      '`REPLAY_MIXED_WORKFLOWS`, `REPLAY_UNKNOWN_STEP`, `UNKNOWN_WORKFLOW_VERSION`, `UNKNOWN_MODEL`. See docs/replay.md.',
    security,
    request: { body: { content: { 'application/json': { schema: CreateReplayRequestSchema } } } },
    responses: {
      201: { description: 'The replay, its shadow jobs created', content: { 'application/json': { schema: ReplayViewSchema } } },
      ...errors(400, 401, 402, 403, 404, 422),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/replays',
    summary: 'List the tenant’s replays, newest first',
    security,
    request: { query: ListReplaysQuerySchema },
    responses: { 200: { description: 'Replays', content: { 'application/json': { schema: ReplayListSchema } } }, ...errors(400, 401) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/replays/{id}',
    summary: 'A replay’s report: each original beside its shadow, and the aggregate',
    description:
      'Per job: cost, latency (end to end, and the model calls’ own time), verdict (validated, review, rejected, ' +
      'failed), reasons and findings of each side, the output’s JSON Patch diff and similarity, and the shadow’s ' +
      'output against the reference answer (given in the request, or the original’s review decision). The aggregate ' +
      'counts finished pairs; `status` is `completed` once every shadow job has finished.',
    security,
    request: { params: z.object({ id: z.string().uuid() }) },
    responses: { 200: { description: 'The report', content: { 'application/json': { schema: ReplayReportSchema } } }, ...errors(401, 404) },
  });
}
