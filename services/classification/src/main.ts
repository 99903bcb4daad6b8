import './tracing'; // first: instruments http and pg before they load
import { bootstrapService } from '@troupe/runtime';
import { AppModule } from './app.module';
import { classificationDefinition } from './classification.config';

void bootstrapService({ definition: classificationDefinition, module: AppModule });
