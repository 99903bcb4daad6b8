import { inspect } from 'node:util';

/**
 * An API key that cannot leak by accident: printing, logging (pino serialises with JSON) or
 * interpolating it shows `[redacted]`; only `reveal()` gives the value, at the HTTP call.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}
