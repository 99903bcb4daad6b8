import { ModelErrorKind } from '@troupe/models';

export enum GenerationErrorCode {
  UNKNOWN_MODEL = 'UNKNOWN_MODEL',
  /** Every model of the plan was unavailable (outage, rate limit, timeout, open circuit, no key). */
  MODELS_UNAVAILABLE = 'MODELS_UNAVAILABLE',
  /** A provider refused the request itself (invalid, authentication, permission, not found, too long). */
  MODEL_REQUEST_REJECTED = 'MODEL_REQUEST_REJECTED',
  MODEL_OUTPUT_MALFORMED = 'MODEL_OUTPUT_MALFORMED',
  DEADLINE_EXCEEDED = 'DEADLINE_EXCEEDED',
  /** A step's output (a model's answer or a transform's value) does not satisfy the step's output schema. */
  STEP_OUTPUT_INVALID = 'STEP_OUTPUT_INVALID',
  /** A step's `input` expression failed to evaluate. */
  STEP_INPUT_FAILED = 'STEP_INPUT_FAILED',
  /** A step's `when` expression failed to evaluate. */
  CONDITION_FAILED = 'CONDITION_FAILED',
  /** A transform's expression failed to evaluate (a type error, a guardrail). */
  TRANSFORM_FAILED = 'TRANSFORM_FAILED',
  /** The job was cancelled (or the service stopped) while the step ran. */
  CANCELLED = 'CANCELLED',
  /** The snapshot a job carries cannot become a graph (it was not validated by this version of Troupe). */
  WORKFLOW_INVALID = 'WORKFLOW_INVALID',
  /** A step's execution threw (a defect): the step fails with the error rather than hang. */
  STEP_CRASHED = 'STEP_CRASHED',
  /** A step's result could not be recorded after retries (a defect or a poison value). */
  STEP_RECORD_FAILED = 'STEP_RECORD_FAILED',
  /** The next model call's worst case would take the job past its budget reservation: it was not made. */
  BUDGET_EXCEEDED = 'BUDGET_EXCEEDED',
}

/** The job's failure code for the error that ended its plan. */
export function generationErrorCode(kind: ModelErrorKind): GenerationErrorCode {
  switch (kind) {
    case ModelErrorKind.UNKNOWN_MODEL:
      return GenerationErrorCode.UNKNOWN_MODEL;
    case ModelErrorKind.DEADLINE_EXCEEDED:
      return GenerationErrorCode.DEADLINE_EXCEEDED;
    case ModelErrorKind.MALFORMED_OUTPUT:
      return GenerationErrorCode.MODEL_OUTPUT_MALFORMED;
    case ModelErrorKind.OUTPUT_INVALID:
      return GenerationErrorCode.STEP_OUTPUT_INVALID;
    case ModelErrorKind.CANCELLED:
      return GenerationErrorCode.CANCELLED;
    case ModelErrorKind.BUDGET_EXCEEDED:
      return GenerationErrorCode.BUDGET_EXCEEDED;
    case ModelErrorKind.INVALID_REQUEST:
    case ModelErrorKind.AUTHENTICATION:
    case ModelErrorKind.PERMISSION:
    case ModelErrorKind.NOT_FOUND:
    case ModelErrorKind.CONTEXT_TOO_LONG:
      return GenerationErrorCode.MODEL_REQUEST_REJECTED;
    default:
      return GenerationErrorCode.MODELS_UNAVAILABLE;
  }
}
