import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { PollingLoop } from '@troupe/messaging';
import { LOGGER, SERVICE_CONFIG } from '@troupe/runtime';
import type { Logger } from 'pino';
import type { DeliveryConfig } from '../delivery.config';
import { DeliveriesRepository } from './deliveries.repository';
import { DeliveryService } from './delivery.service';
import { WebhookSender } from './webhook-sender';

/**
 * Sends due webhooks: claims a batch, sends it concurrently, records the outcomes. Woken right after
 * a commit of this process that made deliveries due; polls the deliveries table for retries coming
 * due and other replicas' work, so the schedule survives restarts and replicas share it.
 */
@Injectable()
export class DeliveryDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly loop: PollingLoop;
  private unsubscribe?: () => void;

  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly service: DeliveryService,
    private readonly sender: WebhookSender,
    @Inject(SERVICE_CONFIG) private readonly config: DeliveryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.loop = new PollingLoop({
      // A full batch: more may be due now. A part batch took all that was due; new work pokes the loop.
      pass: async () => (await this.dispatchOnce()) >= this.config.TROUPE_DELIVERY_CONCURRENCY,
      idleMs: this.config.TROUPE_DELIVERY_POLL_MS,
      onError: (err, failures) => this.logger.error({ err, failures }, 'delivery dispatch failed; retrying'),
    });
  }

  onApplicationBootstrap() {
    this.unsubscribe = this.deliveries.whenScheduled(() => this.loop.poke());
    this.loop.start();
  }

  async beforeApplicationShutdown() {
    this.unsubscribe?.();
    await this.loop.stop(); // the batch in flight is recorded before the database closes
    this.sender.close();
  }

  /** One pass: returns how many deliveries were attempted. */
  async dispatchOnce(): Promise<number> {
    const leaseMs = this.config.TROUPE_WEBHOOK_TIMEOUT_MS + 30_000;
    const due = await this.deliveries.claimDue(this.config.TROUPE_DELIVERY_CONCURRENCY, leaseMs);
    if (due.length === 0) return 0;
    const sent = await Promise.all(
      due.map(async (delivery) => ({
        delivery,
        // A target disabled by an earlier 410 is not called again.
        result: delivery.targetDisabledReason
          ? { ok: false, retryable: false, code: 'TARGET_DISABLED', latencyMs: 0 }
          : await this.sender.send(delivery),
      })),
    );
    await this.service.recordResults(sent);
    return due.length;
  }
}
