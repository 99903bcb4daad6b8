import { Module } from '@nestjs/common';
import { TroupeRuntimeModule } from '@troupe/runtime';
import { deliveryDefinition } from './delivery.config';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({ imports: [TroupeRuntimeModule.forService(deliveryDefinition), WebhooksModule] })
export class AppModule {}
