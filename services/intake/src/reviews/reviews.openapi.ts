import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import {
  ExportReviewsQuerySchema,
  ListReviewsQuerySchema,
  ReviewDecisionRequestSchema,
  ReviewExampleSchema,
  ReviewListSchema,
  ReviewViewSchema,
} from '@troupe/contracts';
import { z } from 'zod';

type Responses = Record<string, { description: string; content: { 'application/json': { schema: unknown } } }>;

/** The review routes in the OpenAPI document, from the same zod schemas that validate them. */
export function registerReviewPaths(
  registry: OpenAPIRegistry,
  security: Record<string, string[]>[],
  errors: (...statuses: number[]) => Responses,
): void {
  registry.register('Review', ReviewViewSchema);
  registry.register('ReviewDecisionRequest', ReviewDecisionRequestSchema);
  const params = z.object({ id: z.string().uuid() });
  const roles = 'Needs the role `reviewer` or `admin`.';
  registry.registerPath({
    method: 'get',
    path: '/v1/reviews',
    summary: 'List results held for review (oldest first; pending by default)',
    description: `${roles} \`status=pending\` includes escalated reviews.`,
    security,
    request: { query: ListReviewsQuerySchema },
    responses: {
      200: { description: 'A page of reviews', content: { 'application/json': { schema: ReviewListSchema } } },
      ...errors(400, 401, 403),
    },
  });
  registry.register('ReviewExample', ReviewExampleSchema);
  registry.registerPath({
    method: 'get',
    path: '/v1/reviews/export',
    summary: "Decided reviews as JSONL, one evaluation example a line (the caller's tenant)",
    description: `${roles} Each line is a ReviewExample: input, held output, decision, edited output (edits), reasons. Oldest decision first.`,
    security,
    request: { query: ExportReviewsQuerySchema },
    responses: {
      200: { description: 'JSONL', content: { 'application/x-ndjson': { schema: ReviewExampleSchema } } } as never,
      ...errors(400, 401, 403),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/reviews/{id}',
    summary: 'Get a review: the held output, why it was held, its deadline and decision',
    description: roles,
    security,
    request: { params },
    responses: {
      200: { description: 'The review', content: { 'application/json': { schema: ReviewViewSchema } } },
      ...errors(401, 403, 404),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/reviews/{id}/decision',
    summary: 'Decide a review: approve, edit (with a corrected output) or reject',
    description:
      `${roles} An escalated review needs \`admin\`. An edited output must satisfy the workflow's output schema ` +
      '(422 `REVIEW_OUTPUT_INVALID`); a review already decided or expired is a 409 `REVIEW_ALREADY_RESOLVED`. ' +
      'The job completes asynchronously (validated or rejected) once validation has applied the decision.',
    security,
    request: { params, body: { content: { 'application/json': { schema: ReviewDecisionRequestSchema } } } },
    responses: {
      202: { description: 'Decision recorded', content: { 'application/json': { schema: ReviewViewSchema } } },
      ...errors(400, 401, 403, 404, 409, 422),
    },
  });
}
