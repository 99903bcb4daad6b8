export enum GenerationErrorCode {
  UNKNOWN_PROVIDER = 'UNKNOWN_PROVIDER',
  UNKNOWN_MODEL = 'UNKNOWN_MODEL',
}

/** A job the generation stage cannot serve as configured; the job fails with this code. */
export class GenerationException extends Error {
  constructor(
    readonly code: GenerationErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GenerationException';
  }
}
