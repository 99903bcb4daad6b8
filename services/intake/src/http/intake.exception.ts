import { HttpStatus } from '@nestjs/common';

export enum IntakeErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  MALFORMED_JSON = 'MALFORMED_JSON',
  /** The path is not valid percent-encoded UTF-8. */
  MALFORMED_URL = 'MALFORMED_URL',
  /** A string in the path, query or body holds a NUL character or a lone UTF-16 surrogate. */
  INVALID_TEXT = 'INVALID_TEXT',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE = 'UNSUPPORTED_MEDIA_TYPE',
  UNKNOWN_WORKFLOW = 'UNKNOWN_WORKFLOW',
  UNKNOWN_WORKFLOW_VERSION = 'UNKNOWN_WORKFLOW_VERSION',
  INPUT_TOO_LONG = 'INPUT_TOO_LONG',
  INVALID_IDEMPOTENCY_KEY = 'INVALID_IDEMPOTENCY_KEY',
  IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED',
  JOB_NOT_FOUND = 'JOB_NOT_FOUND',
  /** The webhook URL points at a loopback, private, link-local, metadata or other non-public address. */
  WEBHOOK_URL_FORBIDDEN = 'WEBHOOK_URL_FORBIDDEN',
  WEBHOOK_HOST_UNRESOLVABLE = 'WEBHOOK_HOST_UNRESOLVABLE',
  JOB_HAS_NO_WEBHOOK = 'JOB_HAS_NO_WEBHOOK',
  /** Only finished jobs (delivered, delivery_failed, failed) can be redelivered. */
  JOB_NOT_REDELIVERABLE = 'JOB_NOT_REDELIVERABLE',
  /** The job has its outcome already (validated, rejected, delivered, failed): there is nothing left to cancel. */
  JOB_ALREADY_FINISHED = 'JOB_ALREADY_FINISHED',
  /** Only a finished job's data can be erased: cancel a running job first. */
  JOB_NOT_FINISHED = 'JOB_NOT_FINISHED',
  /** The job's payloads were erased (retention or a request): there is nothing to redeliver or replay. */
  JOB_DATA_ERASED = 'JOB_DATA_ERASED',
  DEAD_LETTER_NOT_FOUND = 'DEAD_LETTER_NOT_FOUND',
  /** The letter has nowhere to go back to (its original topic is a dead-letter topic or unknown). */
  DEAD_LETTER_NOT_REPLAYABLE = 'DEAD_LETTER_NOT_REPLAYABLE',
  INVALID_CURSOR = 'INVALID_CURSOR',
  REVIEW_NOT_FOUND = 'REVIEW_NOT_FOUND',
  REVIEW_ALREADY_RESOLVED = 'REVIEW_ALREADY_RESOLVED',
  REVIEW_OUTPUT_INVALID = 'REVIEW_OUTPUT_INVALID',
  API_KEY_NOT_FOUND = 'API_KEY_NOT_FOUND',
  /** A key's or tenant's requests per second (with bursts) are spent: see Retry-After and RateLimit. */
  RATE_LIMITED = 'RATE_LIMITED',
  /** The tenant's limit of unfinished jobs is reached. */
  TOO_MANY_JOBS_IN_FLIGHT = 'TOO_MANY_JOBS_IN_FLIGHT',
  NOT_FOUND = 'NOT_FOUND',
  METHOD_NOT_ALLOWED = 'METHOD_NOT_ALLOWED',
  INTERNAL_ERROR = 'INTERNAL_ERROR',
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  /** PostgreSQL (or the broker) did not answer: nothing was done; retry after `Retry-After`. */
  DEPENDENCY_UNAVAILABLE = 'DEPENDENCY_UNAVAILABLE',
  /** The job's cost reservation does not fit a budget that applies to it: nothing was created. */
  BUDGET_EXCEEDED = 'BUDGET_EXCEEDED',
  BUDGET_NOT_FOUND = 'BUDGET_NOT_FOUND',
  BUDGET_NAME_TAKEN = 'BUDGET_NAME_TAKEN',
  REPLAY_NOT_FOUND = 'REPLAY_NOT_FOUND',
  /** No job of the tenant matches the replay's selection, or none of them can be replayed (erased, too long). */
  REPLAY_NO_JOBS = 'REPLAY_NO_JOBS',
  /** A replay re-runs the jobs of one workflow. */
  REPLAY_MIXED_WORKFLOWS = 'REPLAY_MIXED_WORKFLOWS',
  /** `target.steps` names a step that is not a model step of the workflow. */
  REPLAY_UNKNOWN_STEP = 'REPLAY_UNKNOWN_STEP',
  /** The model is not in the model catalogue. */
  UNKNOWN_MODEL = 'UNKNOWN_MODEL',
}

/** An error the API reports to the caller as `{ error: { code, message, details } }`. */
export class IntakeException extends Error {
  constructor(
    readonly code: IntakeErrorCode,
    readonly status: HttpStatus,
    message: string,
    readonly details?: { path: string; message: string }[],
    /** More machine-readable fields of the error (e.g. `budget` for BUDGET_EXCEEDED). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'IntakeException';
  }
}
