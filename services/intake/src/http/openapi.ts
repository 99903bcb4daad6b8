import { OpenAPIRegistry, OpenApiGeneratorV3, extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import {
  CancelJobRequestSchema,
  CancelJobResponseSchema,
  EraseJobDataResponseSchema,
  CreateJobRequestSchema,
  CreateJobResponseSchema,
  DeadLetterListSchema,
  DeadLetterViewSchema,
  ErrorResponseSchema,
  ListDeadLettersQuerySchema,
  RedeliverResponseSchema,
  ReplayDeadLetterResponseSchema,
  JobListSchema,
  JobViewSchema,
  ListJobsQuerySchema,
} from '@troupe/contracts';
import { z } from 'zod';
import { registerBudgetPaths } from '../budgets/budgets.openapi';
import { registerReplayPaths } from '../replays/replays.openapi';
import { registerReviewPaths } from '../reviews/reviews.openapi';
import { registerSecurityPaths } from './security.openapi';
import { WorkflowSummarySchema } from '../workflows/workflows.controller';

extendZodWithOpenApi(z);

// Every route that reads or writes PostgreSQL answers 503 DEPENDENCY_UNAVAILABLE, with Retry-After, while it is down.
const errors = (...statuses: number[]) =>
  Object.fromEntries(
    [...new Set([...statuses, 503])].map((s) => [
      s,
      {
        description:
          s === 503
            ? '`DEPENDENCY_UNAVAILABLE`: the database (or the broker) did not answer; nothing was done; retry after `Retry-After` seconds'
            : `Error (${s}); \`error.code\` says which`,
        content: { 'application/json': { schema: ErrorResponseSchema } },
        ...(s === 503 ? { headers: { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' as const } } } } : {}),
      },
    ]),
  );

/** The OpenAPI 3 document, generated from the same zod schemas that validate requests. */
export function buildOpenApiDocument() {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key. Each key belongs to one tenant and has one role: submitter, reviewer, admin (everything within its tenant) or platform (the operator: cross-tenant views).',
  });
  const security = [{ [bearer.name]: [] }];
  registry.register('CreateJobRequest', CreateJobRequestSchema);
  registry.register('Job', JobViewSchema);
  registry.register('Error', ErrorResponseSchema);

  registry.registerPath({
    method: 'post',
    path: '/v1/jobs',
    summary: 'Submit a job',
    description:
      'Accepts the job and returns its id at once (202); the pipeline runs asynchronously. With an ' +
      '`Idempotency-Key`, repeating the same request returns the same job; reusing the key with another body is a 422. ' +
      'A `webhook.url` that is not public (loopback, private, link-local, cloud metadata, in any spelling) is a 422 ' +
      '`WEBHOOK_URL_FORBIDDEN`; a host that does not resolve is a 422 `WEBHOOK_HOST_UNRESOLVABLE`. ' +
      'When the job’s cost upper bound does not fit a budget that applies to it, a 402 `BUDGET_EXCEEDED` says which ' +
      'budget, what remains and when it resets (`error.budget`, see BudgetRefusal) and nothing is created.',
    security,
    request: {
      headers: z.object({ 'idempotency-key': z.string().max(255).optional() }),
      body: { content: { 'application/json': { schema: CreateJobRequestSchema } } },
    },
    responses: {
      202: { description: 'Accepted', content: { 'application/json': { schema: CreateJobResponseSchema } } },
      ...errors(400, 401, 402, 413, 415, 422),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/jobs',
    summary: 'List jobs of the caller’s tenant, newest first',
    security,
    request: { query: ListJobsQuerySchema },
    responses: {
      200: { description: 'A page of jobs', content: { 'application/json': { schema: JobListSchema } } },
      ...errors(400, 401),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/jobs/{id}',
    summary: 'Get a job: status, result and timeline',
    security,
    request: { params: z.object({ id: z.string().uuid() }) },
    responses: {
      200: { description: 'The job', content: { 'application/json': { schema: JobViewSchema } } },
      ...errors(401, 404),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/jobs/{id}/redeliver',
    summary: 'Send a finished job’s result (or failure notification) to its webhook again',
    description:
      'For delivered, delivery_failed and failed jobs with a webhook. Delivery re-sends the stored payload with the ' +
      'same `webhook-id` (receivers that already have it may drop it as a duplicate) and re-enables a target an ' +
      'earlier 410 disabled. 409 `JOB_HAS_NO_WEBHOOK` or `JOB_NOT_REDELIVERABLE` otherwise.',
    security,
    request: { params: z.object({ id: z.string().uuid() }) },
    responses: {
      202: { description: 'Redelivery requested', content: { 'application/json': { schema: RedeliverResponseSchema } } },
      ...errors(401, 403, 404, 409),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/jobs/{id}/cancel',
    summary: 'Cancel a job',
    description:
      'Asks every stage to stop the job (202): each drops it at its next boundary, model calls in flight are aborted, ' +
      'a pending review is closed. The job then ends `cancelled` and its webhook gets a `job.cancelled` notification, ' +
      'never a result. The stages decide on an event, so a job whose outcome reaches delivery first keeps it (its ' +
      'status then shows which won). Repeating a cancel returns the same answer and changes nothing; a job that has its ' +
      'outcome already (validated, rejected, delivered, delivery_failed, failed) is a 409 `JOB_ALREADY_FINISHED`.',
    security,
    request: {
      params: z.object({ id: z.string().uuid() }),
      body: { required: false, content: { 'application/json': { schema: CancelJobRequestSchema } } },
    },
    responses: {
      202: { description: 'Cancel requested', content: { 'application/json': { schema: CancelJobResponseSchema } } },
      ...errors(400, 401, 403, 404, 409),
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/jobs/{id}/data',
    summary: "Erase a finished job's data",
    description:
      "Erases the job's payloads in every service (admin): its input, result and step outputs, its review's held output " +
      'and findings, its dead letters\' bodies, its delivery bodies and its events already published from each outbox. ' +
      'Intake erases its copy at once; the other services on a `job.data-erase-requested` event. Status, metadata, cost ' +
      'and timeline remain, and `dataErasedAt` is set. Repeating it answers the first erasure. A job that has not ended ' +
      '(delivered, delivery_failed, failed, cancelled) is a 409 `JOB_NOT_FINISHED`: cancel it first. Events stay on the ' +
      "Kafka topics until the topics' retention removes them (docs/security.md).",
    security,
    request: { params: z.object({ id: z.string().uuid() }) },
    responses: {
      202: { description: 'Data erased here, erasure requested everywhere else', content: { 'application/json': { schema: EraseJobDataResponseSchema } } },
      ...errors(401, 403, 404, 409),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/console/config',
    summary: "The key's tenant and role, and this deployment's links (the web console's sign-in check)",
    security,
    responses: {
      200: {
        description: 'Who the key is',
        content: {
          'application/json': {
            schema: z.object({
              principal: z.object({ tenantId: z.string(), role: z.enum(['submitter', 'reviewer', 'admin']) }),
              jaegerUrl: z.string().nullable(),
            }),
          },
        },
      },
      ...errors(401),
    },
  });
  registry.register('DeadLetter', DeadLetterViewSchema);
  registry.registerPath({
    method: 'get',
    path: '/v1/admin/dead-letters',
    summary: 'List dead letters of every stage, newest first (admin: its tenant’s; platform: every tenant’s)',
    security,
    request: { query: ListDeadLettersQuerySchema },
    responses: {
      200: { description: 'A page of dead letters', content: { 'application/json': { schema: DeadLetterListSchema } } },
      ...errors(400, 401, 403),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/admin/dead-letters/{id}',
    summary: 'One dead letter, with its headers (admin of its tenant, or platform)',
    security,
    request: { params: z.object({ id: z.string() }) },
    responses: {
      200: { description: 'The dead letter', content: { 'application/json': { schema: DeadLetterViewSchema } } },
      ...errors(401, 403, 404),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/admin/dead-letters/{id}/replay',
    summary: 'Replay a dead letter to its original topic (admin of its tenant, or platform)',
    description:
      'Republishes the original record (key, value, headers, so its event id) to its original topic, marked with the ' +
      'dead letter’s id: the consumer processes it once however often it is replayed. An undelivered webhook ' +
      '(`originalTopic: webhook`) becomes a redelivery request.',
    security,
    request: { params: z.object({ id: z.string() }) },
    responses: {
      202: { description: 'Replayed', content: { 'application/json': { schema: ReplayDeadLetterResponseSchema } } },
      ...errors(401, 403, 404, 409),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/workflows',
    summary: 'List the workflows and versions this intake accepts',
    security,
    responses: {
      200: {
        description: 'Workflows',
        content: { 'application/json': { schema: z.object({ items: z.array(WorkflowSummarySchema) }) } },
      },
      ...errors(401),
    },
  });
  registerReviewPaths(registry, security, errors);
  registerSecurityPaths(registry, security, errors);
  registerBudgetPaths(registry, security, errors);
  registerReplayPaths(registry, security, errors);
  for (const [path, summary] of [
    ['/health', 'Liveness probe (no key needed)'],
    ['/ready', 'Readiness probe: 503 while Postgres or Kafka is unreachable (no key needed)'],
  ]) {
    registry.registerPath({
      method: 'get',
      path,
      summary,
      responses: { 200: { description: 'OK' }, 503: { description: 'Not ready' } },
    });
  }

  return new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: 'Troupe API',
      version: '1.0.0',
      description: 'AI model orchestration on Kafka choreography: submit jobs, follow them, get results.',
    },
    servers: [{ url: '/' }],
  });
}
