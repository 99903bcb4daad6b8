import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { findUnstorableText, SignalV1Schema } from '@troupe/contracts';
import { errorMessage, PermanentError, type MessageContext } from '@troupe/messaging';
import { SERVICE_CONFIG } from '@troupe/runtime';
import { ZodError } from 'zod';
import { parseApiKeys } from '../auth/api-keys';
import { IntakeErrorCode, IntakeException } from '../http/intake.exception';
import type { IntakeConfig } from '../intake.config';
import { JobsService } from '../jobs/jobs.service';

export enum SignalErrorCode {
  INVALID_SIGNAL = 'INVALID_SIGNAL',
  UNKNOWN_TENANT = 'UNKNOWN_TENANT',
  /** The signal id was used before with different content. */
  SIGNAL_ID_REUSED = 'SIGNAL_ID_REUSED',
}

/**
 * Turns signals from the signals topic into jobs. A signal creates its job once: the job's
 * idempotency key is `signal:<signalId>` (per tenant), so a repeated signal finds the job it made.
 * A signal that cannot become a job is a permanent error: the transport dead-letters it with the code
 * and the reason, and the partition moves on.
 */
@Injectable()
export class SignalsService {
  private readonly tenants: Set<string>;

  constructor(
    private readonly jobs: JobsService,
    @Inject(SERVICE_CONFIG) config: IntakeConfig,
  ) {
    this.tenants = new Set([...parseApiKeys(config.TROUPE_API_KEYS).values()].map((p) => p.tenantId));
  }

  async accept(raw: unknown, ctx: MessageContext): Promise<{ jobId: string; created: boolean }> {
    let signal;
    try {
      signal = SignalV1Schema.parse(raw);
    } catch (error) {
      throw new PermanentError(
        SignalErrorCode.INVALID_SIGNAL,
        error instanceof ZodError ? errorMessage(error) : String(error),
      );
    }
    // Text PostgreSQL cannot store (NUL, lone surrogates): the signal's fault, said at once, as over HTTP.
    const unstorable = findUnstorableText(signal);
    if (unstorable) {
      throw new PermanentError(IntakeErrorCode.INVALID_TEXT, `the signal holds text that cannot be stored at ${unstorable.path}: ${unstorable.message}`);
    }
    if (!this.tenants.has(signal.tenantId)) {
      throw new PermanentError(
        SignalErrorCode.UNKNOWN_TENANT,
        `tenant ${signal.tenantId} is not configured in this intake`,
      );
    }
    const { signalId, tenantId, ...request } = signal;
    try {
      const { response, replayed } = await this.jobs.create(
        { tenantId, role: 'submitter', keyId: 'signals' },
        { ...request, metadata: { ...request.metadata, signalId } },
        `signal:${signalId}`,
        ctx,
      );
      return { jobId: response.id, created: !replayed };
    } catch (error) {
      if (!(error instanceof IntakeException)) throw error;
      // The same reasons an HTTP caller gets a 4xx, as dead-letter codes.
      if (error.code === IntakeErrorCode.IDEMPOTENCY_KEY_REUSED) {
        throw new PermanentError(
          SignalErrorCode.SIGNAL_ID_REUSED,
          `signal ${signalId} was already used with different content`,
        );
      }
      if (error.status >= HttpStatus.INTERNAL_SERVER_ERROR) throw error;
      throw new PermanentError(error.code, error.message);
    }
  }
}
