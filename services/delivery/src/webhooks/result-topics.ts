import { Inject, Injectable } from '@nestjs/common';
import type { KafkaGateway } from '@troupe/messaging';
import { KAFKA_GATEWAY, SERVICE_CONFIG } from '@troupe/runtime';
import type { DeliveryConfig } from '../delivery.config';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Creates a workflow's result topic before the first result is written for it: the broker does not
 * auto-create topics, and a missing topic would stall the outbox relay. Once per topic per process.
 */
@Injectable()
export class ResultTopics {
  private readonly ensured = new Set<string>();

  constructor(
    @Inject(KAFKA_GATEWAY) private readonly gateway: KafkaGateway,
    @Inject(SERVICE_CONFIG) private readonly config: DeliveryConfig,
  ) {}

  async ensure(topic: string): Promise<void> {
    if (this.ensured.has(topic)) return;
    await this.gateway.ensureTopics([
      { name: topic, partitions: this.config.TROUPE_KAFKA_PARTITIONS, retentionMs: 7 * DAY_MS },
    ]);
    this.ensured.add(topic);
  }
}
