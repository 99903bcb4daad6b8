import './tracing'; // first: instruments http and pg before they load
import { bootstrapService } from '@troupe/runtime';
import { AppModule } from './app.module';
import { generationDefinition } from './generation.config';

void bootstrapService({ definition: generationDefinition, module: AppModule });
