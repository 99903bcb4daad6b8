import { z } from 'zod';
import { ReviewSpecSchema, ValidationSpecSchema } from './validation-spec';

const Identifier = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, starting with a letter or digit');

export const ClassificationRuleSchema = z.object({
  label: Identifier,
  /** Case-insensitive words or phrases; each match adds to the label's score. */
  keywords: z.array(z.string().min(1)).min(1),
});

export const ModelRefSchema = z.string().regex(/^[a-z0-9-]+\/[A-Za-z0-9._:\-/]+$/, 'expected <provider>/<model>');
const ModelRef = ModelRefSchema;

export const RulesClassifierSpecSchema = z.object({
  /** `rules`: keyword rules plus the local language and sentiment models; needs no API key. */
  kind: z.literal('rules'),
  rules: z.array(ClassificationRuleSchema).default([]),
  defaultLabel: Identifier,
});

export const LlmClassifierSpecSchema = z.object({
  /** `llm`: a model answers `{label, confidence}` as JSON; language and sentiment stay local. */
  kind: z.literal('llm'),
  /** `<provider>/<model>` from the model catalogue; `fallback` models are tried in order on failure. */
  model: ModelRef,
  fallback: z.array(ModelRef).default([]),
  /** The labels the model may answer; anything else becomes `defaultLabel`. */
  labels: z.array(Identifier).min(1),
  defaultLabel: Identifier,
  instructions: z.string().optional(),
  /** When every model fails, the keyword rules decide (so a provider outage does not fail the job). */
  rules: z.array(ClassificationRuleSchema).default([]),
});

export const ClassifierSpecSchema = z.discriminatedUnion('kind', [RulesClassifierSpecSchema, LlmClassifierSpecSchema]);
export type ClassifierSpec = z.infer<typeof ClassifierSpecSchema>;
export type RulesClassifierSpec = z.infer<typeof RulesClassifierSpecSchema>;
export type LlmClassifierSpec = z.infer<typeof LlmClassifierSpecSchema>;

/** One model a plan may call, with optional overrides of the route's instructions and params. */
export const PlanCandidateSchema = z.union([
  ModelRef.transform((model): { model: string; weight: number; instructions?: string; params?: Record<string, unknown> } => ({ model, weight: 1 })),
  z.object({
    model: ModelRef,
    /** `weighted` plans: relative share of traffic. */
    weight: z.number().positive().default(1),
    instructions: z.string().optional(),
    params: z.record(z.string(), z.unknown()).optional(),
  }),
]);
export type PlanCandidate = z.infer<typeof PlanCandidateSchema>;

export const RoutingStrategySchema = z.enum(['single', 'fallback', 'cascade', 'parallel', 'weighted']);
export type RoutingStrategy = z.infer<typeof RoutingStrategySchema>;

/** The fields of a model plan: which models, in what pattern, with what instructions. */
const ModelPlanShape = {
  /**
   * `single` (default): `model`. `fallback`: `models` in order, the next on a retryable failure or
   * an open circuit. `cascade`: `models` cheapest first, escalating while the output's (or the
   * classifier's) confidence is below `escalateBelow`. `parallel`: all `models` at once, merged by
   * `merge`. `weighted`: one of `models`, chosen by `weight`.
   */
  strategy: RoutingStrategySchema.default('single'),
  /** `<provider>/<model>`, e.g. `local/extractive-summary`; for `single`. */
  model: ModelRef.optional(),
  models: z.array(PlanCandidateSchema).optional(),
  /** Instructions for the model. User input is passed separately, as data, never spliced in here. */
  instructions: z.string().optional(),
  /** Version of the prompt (instructions + data layout), recorded with every generation. */
  promptVersion: z.number().int().positive().default(1),
  params: z.record(z.string(), z.unknown()).default({}),
  /** Ask remote models for a JSON object (the output schema is sent along). */
  json: z.boolean().default(true),
  /** `cascade`: escalate while confidence is below this. */
  escalateBelow: z.number().min(0).max(1).default(0.7),
  /** `parallel`: `fields` merges objects by the output schema's properties; `first-valid`; `majority` votes on `label`. */
  merge: z.enum(['fields', 'first-valid', 'majority']).default('first-valid'),
  /** Per-call timeout, overriding the catalogue's. */
  timeoutMs: z.number().int().positive().max(600_000).optional(),
  /** Deadline for the whole step, every attempt and fallback included. */
  deadlineMs: z.number().int().positive().max(3_600_000).optional(),
};

/** A plan names its models the way its strategy needs. */
function checkPlan(
  plan: { strategy: RoutingStrategy; model?: string; models?: unknown[] },
  ctx: z.RefinementCtx,
  path: (string | number)[] = [],
): void {
  if (plan.strategy === 'single' && !plan.model) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: [...path, 'model'], message: 'a single-model step needs `model`' });
  }
  if (plan.strategy !== 'single') {
    const min = plan.strategy === 'weighted' ? 1 : 2;
    if (!plan.models || plan.models.length < min) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [...path, 'models'],
        message: `a ${plan.strategy} step needs at least ${min} entries in \`models\``,
      });
    }
  }
}

/** A model plan on its own: one route of `generation.routes`. */
export const ModelStepSchema = z.object(ModelPlanShape).superRefine((plan, ctx) => checkPlan(plan, ctx));
export type ModelStep = z.infer<typeof ModelStepSchema>;

export const GenerationSpecSchema = z.object({
  /** One step per classification label; `default` handles every other label. */
  routes: z.record(Identifier, ModelStepSchema).refine((routes) => 'default' in routes, {
    message: 'routes must contain a `default` route',
  }),
});

/** The id of a step. Expressions read it as `$steps.<id>`, so it has no dashes. */
export const StepIdSchema = z
  .string()
  .regex(/^[a-z][A-Za-z0-9_]{0,62}$/, 'a lower-case letter, then letters, digits or _ (no dashes: expressions read it as $steps.<id>)');

/**
 * A JSONata expression (https://jsonata.org) over `$input` (the job's input), `$classification`,
 * `$metadata` and `$steps` (the steps upstream: `$steps.<id>.output`, `$steps.<id>.status`). It is
 * evaluated in a sandbox with time, depth and size limits; it cannot run JavaScript or do I/O.
 */
export const ExpressionSchema = z.string().trim().min(1).max(20_000);

/** One expression, or one expression per field of an object. */
export const MappingSchema = z.union([ExpressionSchema, z.record(z.string().min(1).max(64), ExpressionSchema)]);
export type Mapping = z.infer<typeof MappingSchema>;

const StepOutputSpecSchema = z
  .object({
    /** JSON Schema the step's output must satisfy; a model plan moves on to its next model when it does not. */
    schema: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const StepBaseShape = {
  id: StepIdSchema,
  description: z.string().optional(),
  /** Steps that must finish first; their outputs are readable as `$steps.<id>.output`. */
  needs: z.array(StepIdSchema).max(50).default([]),
  /** Run only when this expression is true; otherwise the step is skipped (and so are steps needing only skipped steps). */
  when: ExpressionSchema.optional(),
  output: StepOutputSpecSchema.optional(),
};

/** A step that calls models: a routing plan (or plans by label), on data built from earlier steps. */
export const ModelStepSpecSchema = z
  .object({
    ...StepBaseShape,
    kind: z.literal('model'),
    ...ModelPlanShape,
    /**
     * The data the model works on, sent as a JSON data message (never spliced into the
     * instructions): one expression giving an object, or one expression per field. Default: the
     * job's input text, as for `generation.routes`.
     */
    input: MappingSchema.optional(),
    /** Instead of one plan: a plan per classification label, `default` for every other label. */
    routes: z.record(Identifier, ModelStepSchema).optional(),
  })
  .strict();
export type ModelStepSpec = z.infer<typeof ModelStepSpecSchema>;

/** A step that reshapes data with an expression, calling no model. */
export const TransformStepSpecSchema = z
  .object({
    ...StepBaseShape,
    kind: z.literal('transform'),
    /** A JSONata expression; its value is the step's output. */
    expression: ExpressionSchema,
  })
  .strict();
export type TransformStepSpec = z.infer<typeof TransformStepSpecSchema>;

export const StepSpecSchema = z.discriminatedUnion('kind', [ModelStepSpecSchema, TransformStepSpecSchema]);
export type StepSpec = z.infer<typeof StepSpecSchema>;
export const STEP_KINDS = ['model', 'transform'] as const;

export const OutputSpecSchema = z.object({
  /** JSON Schema (draft 2020-12 or 07) the job's output must satisfy. */
  schema: z.record(z.string(), z.unknown()),
  /**
   * With `steps`: how the job's output is built from the steps' outputs (an expression, or one per
   * field). Default: the output of the graph's only final step.
   */
  from: MappingSchema.optional(),
});

export const DeliverySpecSchema = z.object({
  /** Default webhook for results when a job does not name one. */
  webhook: z.object({ url: z.string().url() }).optional(),
  /**
   * Also publish every outcome to this Kafka topic (event-driven automation for other systems). It
   * must start with `troupe.results.`; intake creates it at start-up (the broker does not auto-create).
   */
  topic: z
    .string()
    .regex(/^troupe\.results\.[a-z0-9][a-z0-9._-]{0,200}$/, 'a topic named troupe.results.<name> (lower-case, digits, . _ -)')
    .optional(),
});

/** The id of the model step that `generation.routes` becomes in a workflow's graph. */
export const ROUTES_STEP_ID = 'generate';

/** Personal data a workflow keeps from third-party model providers. */
export const REDACTION_KINDS = ['email', 'phone', 'payment-card', 'iban', 'name'] as const;
export type RedactionKind = (typeof REDACTION_KINDS)[number];
export const PrivacySpecSchema = z
  .object({
    /**
     * Replaced with placeholders (`[EMAIL_1]`) in every prompt sent to a provider that is not
     * `local`, and put back in its answer; in-process models see the original.
     */
    redact: z.array(z.enum(REDACTION_KINDS)).min(1).optional(),
  })
  .strict();
export type PrivacySpec = z.infer<typeof PrivacySpecSchema>;

export const WorkflowDefinitionSchema = z
  .object({
    id: Identifier,
    version: z.number().int().positive(),
    description: z.string().default(''),
    /**
     * Deadline for the job's model work, from its creation: generation and an LLM classifier make no
     * call past it (retries, fallbacks, regenerations and every step included) and the job fails
     * DEADLINE_EXCEEDED. Time waiting for a reviewer does not count; the review has its own deadline.
     */
    deadlineSeconds: z.number().int().positive().max(7 * 24 * 3600).optional(),
    /**
     * Service-level objectives: the share of jobs delivered (e.g. 0.99) and the p95 end-to-end
     * latency in ms (e.g. 30000). `GET /v1/usage` reports attainment; metrics feed burn-rate alerts.
     */
    objectives: z
      .object({
        delivered: z.number().gt(0).lt(1).optional(),
        latencyP95Ms: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    /**
     * How long the job's payloads (input, outputs, review payloads, dead-letter and delivery bodies)
     * are kept in every service's store after the job was created; then they are erased (the job's
     * metadata, status and cost remain). Days, fractions allowed (0.5: 12 hours). Overrides the
     * tenant's TROUPE_RETENTION_DAYS; without either, payloads are kept.
     */
    retention: z.object({ days: z.number().positive().max(36_500) }).strict().optional(),
    input: z.object({ maxLength: z.number().int().positive().max(1_000_000).default(20_000) }).default({}),
    classification: ClassifierSpecSchema,
    /** One model step chosen by label (the simple case). With `steps` too, it is the step `generate`. */
    generation: GenerationSpecSchema.optional(),
    /** The workflow as a graph of steps (see docs/workflows.md). */
    steps: z.array(StepSpecSchema).min(1).max(100).optional(),
    output: OutputSpecSchema,
    validation: ValidationSpecSchema.default({}),
    review: ReviewSpecSchema.optional(),
    delivery: DeliverySpecSchema.default({}),
    privacy: PrivacySpecSchema.optional(),
  })
  .strict()
  .superRefine((workflow, ctx) => {
    if (!workflow.generation && !workflow.steps) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['steps'], message: 'a workflow needs `steps` or `generation.routes`' });
    }
    workflow.steps?.forEach((step, i) => {
      if (step.kind !== 'model') return;
      if (step.routes) {
        if (!('default' in step.routes)) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['steps', i, 'routes'], message: 'routes must contain a `default` route' });
        }
        if (step.model || step.models) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: ['steps', i, 'routes'],
            message: 'a step has either `routes` or its own `model`/`models`, not both',
          });
        }
      } else {
        checkPlan(step, ctx, ['steps', i]);
      }
    });
  });
export type WorkflowDefinition = z.infer<typeof WorkflowDefinitionSchema>;

/** The pinned workflow version that travels with every event of a job. */
export const WorkflowSnapshotSchema = WorkflowDefinitionSchema;
export type WorkflowSnapshot = WorkflowDefinition;

export const WorkflowRefSchema = z.object({ id: Identifier, version: z.number().int().positive() });
export type WorkflowRef = z.infer<typeof WorkflowRefSchema>;
