import { ModelErrorKind } from '@troupe/models';

export enum GenerationErrorCode {
  UNKNOWN_MODEL = 'UNKNOWN_MODEL',
  /** Every model of the plan was unavailable (outage, rate limit, timeout, open circuit, no key). */
  MODELS_UNAVAILABLE = 'MODELS_UNAVAILABLE',
  /** A provider refused the request itself (invalid, authentication, permission, not found, too long). */
  MODEL_REQUEST_REJECTED = 'MODEL_REQUEST_REJECTED',
  MODEL_OUTPUT_MALFORMED = 'MODEL_OUTPUT_MALFORMED',
  DEADLINE_EXCEEDED = 'DEADLINE_EXCEEDED',
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
