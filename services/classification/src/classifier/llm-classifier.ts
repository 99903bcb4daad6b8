import type { Classification, LlmClassifierSpec, ModelStep, RedactionKind } from '@troupe/contracts';
import { ModelRoutingError, type ModelRuntime } from '@troupe/models';
import { z } from 'zod';
import { classifyLocally } from './local-classifier';

const AnswerSchema = z.object({ label: z.string(), confidence: z.number().min(0).max(1) });

const DEFAULT_INSTRUCTIONS =
  'Classify the text in "input" into exactly one of the labels in "labels". ' +
  'Answer {"label": <one of the labels>, "confidence": <0..1, how sure you are>}.';

/**
 * Classifies with a model that answers `{label, confidence}` as JSON, validated against the
 * workflow's labels; language and sentiment still come from the local models. When every model
 * fails or answers nonsense, the keyword rules decide, so a provider outage does not fail the job.
 */
export async function classifyWithLlm(
  text: string,
  spec: LlmClassifierSpec,
  models: ModelRuntime,
  signal?: AbortSignal,
  /** The job's deadline (epoch ms); past it no model is called and the rules decide. */
  jobDeadlineAt?: number,
  /** Personal data kept from third-party providers (the workflow's `privacy.redact`). */
  redact?: readonly RedactionKind[],
): Promise<Classification> {
  const local = classifyLocally(text, { kind: 'rules', rules: spec.rules, defaultLabel: spec.defaultLabel });
  const step: ModelStep = {
    strategy: spec.fallback.length > 0 ? 'fallback' : 'single',
    model: spec.model,
    models:
      spec.fallback.length > 0
        ? [spec.model, ...spec.fallback].map((model) => ({ model, weight: 1 }))
        : undefined,
    instructions: spec.instructions ?? DEFAULT_INSTRUCTIONS,
    promptVersion: 1,
    params: { temperature: 0 },
    json: true,
    escalateBelow: 0,
    merge: 'first-valid',
  };
  const schema = {
    type: 'object',
    required: ['label', 'confidence'],
    properties: { label: { enum: spec.labels }, confidence: { type: 'number', minimum: 0, maximum: 1 } },
  };
  try {
    const g = await models.router.run({
      route: 'classify',
      step,
      data: { input: { text }, extra: { labels: spec.labels } },
      schema,
      deadlineMs: models.deadlineMs,
      jobDeadlineAt,
      signal,
      redact,
    });
    const answer = AnswerSchema.safeParse(g.output);
    const base = { ...local, model: g.model, attempts: g.attempts, costUsd: g.costUsd };
    if (!answer.success) {
      return {
        ...base,
        label: local.label,
        confidence: local.confidence,
        model: local.model,
        signals: ['llm-answer-invalid', ...local.signals],
      };
    }
    const known = spec.labels.includes(answer.data.label);
    return {
      ...base,
      label: known ? answer.data.label : spec.defaultLabel,
      // An answer outside the label set is a guess at best.
      confidence: known ? answer.data.confidence : Math.min(answer.data.confidence, 0.3),
      signals: [
        known ? 'llm' : `llm-unknown-label:${answer.data.label.slice(0, 40)}`,
        ...g.decisions.map((d) => `${d.action}:${d.model}`),
        ...local.signals.filter((s) => !s.startsWith('keyword:')),
      ],
    };
  } catch (error) {
    if (!(error instanceof ModelRoutingError)) throw error;
    return {
      ...local,
      attempts: error.attempts,
      costUsd: error.costUsd,
      signals: [`llm-failed:${error.kind}`, ...local.signals],
    };
  }
}
