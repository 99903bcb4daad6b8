import { Module } from '@nestjs/common';
import { EgressPolicy } from '@troupe/egress';
import { SERVICE_CONFIG } from '@troupe/runtime';
import type { DeliveryConfig } from '../delivery.config';
import { DeliveriesRepository } from './deliveries.repository';
import { DeliveryDispatcher } from './delivery-dispatcher';
import { DeliveryService } from './delivery.service';
import { JobOutcomeHandler } from './job-outcome.handler';
import { JobDataEraseRequestedHandler } from './job-data-erase-requested.handler';
import { ResultTopics } from './result-topics';
import { WebhookSecrets } from './webhook-secrets';
import { WebhookSender } from './webhook-sender';

@Module({
  controllers: [JobOutcomeHandler, JobDataEraseRequestedHandler],
  providers: [
    DeliveriesRepository,
    DeliveryService,
    DeliveryDispatcher,
    ResultTopics,
    {
      provide: WebhookSender,
      inject: [SERVICE_CONFIG],
      useFactory: (config: DeliveryConfig) =>
        new WebhookSender(
          new WebhookSecrets(config.TROUPE_WEBHOOK_SECRETS),
          config.TROUPE_WEBHOOK_TIMEOUT_MS,
          EgressPolicy.fromSpec(config.TROUPE_EGRESS_ALLOWLIST),
        ),
    },
  ],
})
export class WebhooksModule {}
