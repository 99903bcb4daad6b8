import './tracing'; // first: instruments http and pg before they load
import { bootstrapService } from '@troupe/runtime';
import { AppModule } from './app.module';
import { deliveryDefinition } from './delivery.config';

void bootstrapService({ definition: deliveryDefinition, module: AppModule });
