import { z } from 'zod';

const Identifier = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, starting with a letter or digit');

export const ClassificationRuleSchema = z.object({
  label: Identifier,
  /** Case-insensitive words or phrases; each match adds to the label's score. */
  keywords: z.array(z.string().min(1)).min(1),
});

export const ClassifierSpecSchema = z.object({
  /** `rules`: keyword rules plus the local language and sentiment models; needs no API key. */
  kind: z.literal('rules'),
  rules: z.array(ClassificationRuleSchema).default([]),
  defaultLabel: Identifier,
});
export type ClassifierSpec = z.infer<typeof ClassifierSpecSchema>;

export const ModelStepSchema = z.object({
  /** `<provider>/<model>`, e.g. `local/extractive-summary`. */
  model: z.string().regex(/^[a-z0-9-]+\/[A-Za-z0-9._:\-/]+$/, 'expected <provider>/<model>'),
  /** Instructions for the model. User input is passed separately, as data, never spliced in here. */
  instructions: z.string().optional(),
  params: z.record(z.string(), z.unknown()).default({}),
});
export type ModelStep = z.infer<typeof ModelStepSchema>;

export const GenerationSpecSchema = z.object({
  /** One step per classification label; `default` handles every other label. */
  routes: z.record(Identifier, ModelStepSchema).refine((routes) => 'default' in routes, {
    message: 'routes must contain a `default` route',
  }),
});

export const OutputSpecSchema = z.object({
  /** JSON Schema (draft 2020-12 or 07) the generated output must satisfy. */
  schema: z.record(z.string(), z.unknown()),
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

export const WorkflowDefinitionSchema = z
  .object({
    id: Identifier,
    version: z.number().int().positive(),
    description: z.string().default(''),
    input: z.object({ maxLength: z.number().int().positive().max(1_000_000).default(20_000) }).default({}),
    classification: ClassifierSpecSchema,
    generation: GenerationSpecSchema,
    output: OutputSpecSchema,
    delivery: DeliverySpecSchema.default({}),
  })
  .strict();
export type WorkflowDefinition = z.infer<typeof WorkflowDefinitionSchema>;

/** The pinned workflow version that travels with every event of a job. */
export const WorkflowSnapshotSchema = WorkflowDefinitionSchema;
export type WorkflowSnapshot = WorkflowDefinition;

export const WorkflowRefSchema = z.object({ id: Identifier, version: z.number().int().positive() });
export type WorkflowRef = z.infer<typeof WorkflowRefSchema>;
