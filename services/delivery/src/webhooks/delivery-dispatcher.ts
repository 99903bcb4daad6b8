import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { backoffDelay } from '@troupe/messaging';
import { LOGGER, SERVICE_CONFIG } from '@troupe/runtime';
import type { Logger } from 'pino';
import type { DeliveryConfig } from '../delivery.config';
import { DeliveriesRepository } from './deliveries.repository';
import { DeliveryService } from './delivery.service';
import { WebhookSender } from './webhook-sender';

/**
 * Sends due webhooks: claims a batch, sends it concurrently, records the outcomes. Polls the
 * deliveries table, so the schedule survives restarts and replicas share it.
 */
@Injectable()
export class DeliveryDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly service: DeliveryService,
    private readonly sender: WebhookSender,
    @Inject(SERVICE_CONFIG) private readonly config: DeliveryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap() {
    this.running = true;
    this.loop = this.run();
  }

  async beforeApplicationShutdown() {
    this.running = false;
    this.wake?.();
    await this.loop; // the batch in flight is recorded before the database closes
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

  private async run() {
    let failures = 0;
    while (this.running) {
      try {
        const count = await this.dispatchOnce();
        failures = 0;
        if (count > 0) continue;
        await this.pause(this.config.TROUPE_DELIVERY_POLL_MS);
      } catch (err) {
        failures++;
        this.logger.error({ err, failures }, 'delivery dispatch failed; retrying');
        await this.pause(backoffDelay(failures, 250, 10_000));
      }
    }
  }

  private pause(ms: number) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
