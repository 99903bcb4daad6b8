import { CommonConfigSchema, envBoolean } from '@troupe/config';
import type { ServiceDefinition } from '@troupe/runtime';
import { allowlistProblem } from '@troupe/egress';
import { z } from 'zod';
import { CreateBudgetRequestSchema } from './budgets/budgets.api';
import { JobEventEntity } from './jobs/job-event.entity';
import { JobEntity } from './jobs/job.entity';
import { Jobs1763800000001 } from './migrations/1763800000001-jobs';
import { Reviews1764500000001 } from './migrations/1764500000001-reviews';
import { StepsAndCancel1765000000001 } from './migrations/1765000000001-steps-and-cancel';
import { JobLabel1769000000000 } from './migrations/1769000000000-job-label';
import { HeldJobEvents1770000000000 } from './migrations/1770000000000-held-job-events';
import { Retention1771000000000 } from './migrations/1771000000000-retention';
import { Replays1773000000000 } from './migrations/1773000000000-replays';
import { ReviewEntity } from './reviews/review.entity';
import { DeadLetters1764000000002 } from './migrations/1764000000002-dead-letters';
import { TenantScopedDeadLetters1767000000001 } from './migrations/1767000000001-tenant-scoped-dead-letters';
import { ApiKeys1767000000002 } from './migrations/1767000000002-api-keys';
import { RateLimits1767000000003 } from './migrations/1767000000003-rate-limits';
import { AuditLog1767000000004 } from './migrations/1767000000004-audit-log';
import { CostsAndBudgets1768000000000 } from './migrations/1768000000000-costs-and-budgets';

const SeededBudgetsSchema = z.array(CreateBudgetRequestSchema.extend({ tenantId: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/) }));

export const IntakeConfigSchema = CommonConfigSchema.extend({
  /**
   * API keys, comma-separated, each `<tenant>:<role>:<key>` where key is the plain key or
   * `sha256=<hex>` of it. Plain keys are hashed at start-up and never kept.
   */
  TROUPE_API_KEYS: z.string({ required_error: 'required: at least one <tenant>:<role>:<key> entry' }).min(1),
  TROUPE_WORKFLOWS_DIR: z.string().default('workflows'),
  /** The model catalogue generation uses: workflows naming a model it does not know are refused at start-up. */
  TROUPE_MODEL_CATALOGUE: z.string().default('config/models.yaml'),
  /**
   * Tries per model generation makes for transient errors: must equal generation's setting, since a
   * job's budget reservation counts every try (see docs/budgets.md).
   */
  TROUPE_MODEL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  /** Largest accepted request body, in bytes. */
  TROUPE_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(256 * 1024),
  /**
   * Non-public webhook targets allowed anyway (comma-separated IPs, CIDRs or exact host names), e.g.
   * `127.0.0.1` for a local receiver. Everything else must resolve to public addresses only.
   */
  TROUPE_EGRESS_ALLOWLIST: z
    .string()
    .default('')
    .superRefine((spec, ctx) => {
      const problem = allowlistProblem(spec);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    }),
  /**
   * Default requests per second per key (0: no limit); a managed key's own `rateLimit` overrides it.
   * Shared by every replica through Postgres.
   */
  TROUPE_RATE_LIMIT_KEY_RPS: z.coerce.number().min(0).default(0),
  /** Requests a key may make at once above its rate; default twice the rate. */
  TROUPE_RATE_LIMIT_KEY_BURST: z.coerce.number().int().min(1).optional(),
  /** Requests per second per tenant, all its keys together (0: no limit). */
  TROUPE_RATE_LIMIT_TENANT_RPS: z.coerce.number().min(0).default(0),
  TROUPE_RATE_LIMIT_TENANT_BURST: z.coerce.number().int().min(1).optional(),
  /** Unfinished jobs a tenant may have at once (0: no limit); `POST /v1/jobs` is a 429 beyond. */
  TROUPE_RATE_LIMIT_TENANT_JOBS_IN_FLIGHT: z.coerce.number().int().min(0).default(0),
  /** Days the audit log keeps an entry; older ones are deleted by a periodic sweep. */
  TROUPE_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).default(365),
  /**
   * Longest the read model holds an event that arrived before the one it follows (a webhook's
   * job.delivered before the job.validated it delivers) before applying it anyway.
   */
  TROUPE_READ_MODEL_HOLD_MS: z.coerce.number().int().min(1_000).default(60_000),
  /**
   * Payload retention per tenant, in days (fractions allowed): `<tenant>=<days>`, comma-separated,
   * `*=<days>` for every other tenant. A workflow's `retention.days` wins. Unset: payloads are kept.
   */
  TROUPE_RETENTION_DAYS: z
    .string()
    .default('')
    .transform((text, ctx) => {
      const days = new Map<string, number>();
      for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
        const [tenant, value] = entry.split('=');
        const n = Number(value);
        if (!tenant || !(n > 0)) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${entry}": expected <tenant>=<days> with days > 0` });
          return z.NEVER;
        }
        days.set(tenant, n);
      }
      return days;
    }),
  /** How often each replica erases the payloads of jobs past their retention. */
  TROUPE_RETENTION_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(60_000),
  /** How often each replica deletes audit entries past their retention. */
  TROUPE_AUDIT_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(60 * 60 * 1000),
  /**
   * Budgets seeded at start-up: a JSON array of `{ tenantId, name, period, limitUsd, workflowId?, keyId?,
   * thresholds?, alertWebhook? }`. A seeded budget is created or updated by (tenant, name); its counters stay.
   */
  TROUPE_BUDGETS: z
    .string()
    .default('[]')
    .transform((text, ctx) => {
      try {
        const parsed = SeededBudgetsSchema.safeParse(JSON.parse(text));
        if (parsed.success) return parsed.data;
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
      } catch (error) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not JSON: ${(error as Error).message}` });
      }
      return z.NEVER;
    }),
  /**
   * A job that ended this long ago and is still unsettled (its ledger never reached what a stage
   * reported: an event lost for good) is settled with the ledger it has, releasing its reservations.
   */
  TROUPE_BUDGET_SETTLE_AFTER_SECONDS: z.coerce.number().int().min(60).default(3600),
  /** Job-level metrics carry a `tenant` label; false folds all tenants into `_all` (very many tenants). */
  TROUPE_METRICS_TENANT_LABEL: envBoolean(true),
  /** Serve the OpenAPI document and its UI (they describe the API and hold no tenant data). */
  TROUPE_API_DOCS: envBoolean(true),
  /** Serve the web console at /console (static files; its data comes from the API with the user's key). */
  TROUPE_CONSOLE: envBoolean(true),
  /** Jaeger's UI, e.g. `http://localhost:16686`: the console links each job to its trace there. */
  TROUPE_JAEGER_URL: z.string().url().optional(),
});
export type IntakeConfig = z.infer<typeof IntakeConfigSchema>;

export const intakeDefinition: ServiceDefinition<typeof IntakeConfigSchema> = {
  service: 'intake',
  configSchema: IntakeConfigSchema,
  entities: [JobEntity, JobEventEntity, ReviewEntity],
  migrations: [Jobs1763800000001, DeadLetters1764000000002, Reviews1764500000001, StepsAndCancel1765000000001, TenantScopedDeadLetters1767000000001, ApiKeys1767000000002, RateLimits1767000000003, AuditLog1767000000004, CostsAndBudgets1768000000000, JobLabel1769000000000, HeldJobEvents1770000000000, Retention1771000000000, Replays1773000000000],
  defaultPort: 3000,
  publicHttp: true,
  readyWhileJoining: true,
};
