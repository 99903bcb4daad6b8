import './tracing'; // first: instruments http and pg before they load
import { bootstrapService, SERVICE_CONFIG } from '@troupe/runtime';
import { AppModule } from './app.module';
import { configureHttp } from './http/configure-http';
import { HttpErrorFilter } from './http/http-error.filter';
import { intakeDefinition, type IntakeConfig } from './intake.config';

void bootstrapService({
  definition: intakeDefinition,
  module: AppModule,
  configure: (app, logger) => configureHttp(app, logger, app.get<IntakeConfig>(SERVICE_CONFIG)),
  httpErrorFilter: (logger) => new HttpErrorFilter(logger),
});
