import type { FailureReason } from '@troupe/contracts';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * Checks a model's output against the workflow's JSON Schema (draft 2020-12, with formats).
 * Compiled validators are cached by schema text: workflows are few, jobs are many.
 */
export class OutputValidator {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });
  private readonly cache = new Map<string, ValidateFunction>();

  constructor() {
    addFormats(this.ajv);
  }

  validate(schema: Record<string, unknown>, output: unknown): FailureReason[] {
    const key = JSON.stringify(schema);
    let validateFn = this.cache.get(key);
    if (!validateFn) {
      validateFn = this.ajv.compile(schema);
      this.cache.set(key, validateFn);
    }
    if (validateFn(output)) return [];
    return (validateFn.errors ?? []).map((e) => ({
      code: `SCHEMA_${e.keyword.toUpperCase()}`,
      path: e.instancePath || '/',
      message: `${e.instancePath || 'output'} ${e.message ?? 'is invalid'}`,
    }));
  }
}
