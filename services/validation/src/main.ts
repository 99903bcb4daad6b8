import './tracing'; // first: instruments http and pg before they load
import { bootstrapService } from '@troupe/runtime';
import { AppModule } from './app.module';
import { validationDefinition } from './validation.config';

void bootstrapService({ definition: validationDefinition, module: AppModule });
