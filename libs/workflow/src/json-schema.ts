import type { FailureReason } from '@troupe/contracts';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * Checks values against JSON Schemas (draft 2020-12, with formats): a job's output against its
 * workflow's schema, a step's output against the step's. Compiled validators are cached by schema
 * text: workflows are few, jobs are many.
 */
export class JsonSchemaValidator {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });
  private readonly cache = new Map<string, ValidateFunction>();

  constructor() {
    addFormats(this.ajv);
  }

  /** Throws when the schema itself is not a valid JSON Schema. */
  compile(schema: Record<string, unknown>): ValidateFunction {
    const key = JSON.stringify(schema);
    let validate = this.cache.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.cache.set(key, validate);
    }
    return validate;
  }

  /** Every violation, with its JSON pointer (a missing property points at where it should be). */
  validate(schema: Record<string, unknown>, value: unknown): FailureReason[] {
    const validate = this.compile(schema);
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => {
      const missing = e.keyword === 'required' ? (e.params as { missingProperty?: string }).missingProperty : undefined;
      return {
        code: `SCHEMA_${e.keyword.toUpperCase()}`,
        path: missing !== undefined ? `${e.instancePath}/${missing}` : e.instancePath || '/',
        message: `${e.instancePath || 'output'} ${e.message ?? 'is invalid'}`,
      };
    });
  }
}
