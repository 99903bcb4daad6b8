import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { json } from 'express';
import type { Logger } from 'pino';
import swaggerUi from 'swagger-ui-express';
import type { IntakeConfig } from '../intake.config';
import { toErrorResponse } from './http-error.filter';
import { buildOpenApiDocument } from './openapi';
import { serveConsole } from '../console/serve-console';
import { refuseUnstorableText, requireJsonBodies } from './request-hygiene';

/** Body limits, JSON errors for the body parser's failures, and the API docs. */
export function configureHttp(app: INestApplication, logger: Logger, config: IntakeConfig): void {
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  express.set('trust proxy', false);
  express.use(requireJsonBodies);
  express.use(json({ limit: config.TROUPE_MAX_BODY_BYTES, strict: true, type: ['application/json', 'application/*+json'] }));
  express.use(refuseUnstorableText);
  // Body parser errors happen before Nest routing: answer them in the same format.
  express.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!err) return next();
    const { status, body } = toErrorResponse(err, logger);
    res.status(status).json(body);
  });
  if (config.TROUPE_API_DOCS) {
    const document = buildOpenApiDocument();
    express.use('/openapi.json', (_req: Request, res: Response) => void res.json(document));
    express.use('/docs', swaggerUi.serve, swaggerUi.setup(document, { customSiteTitle: 'Troupe API' }));
  }
  if (config.TROUPE_CONSOLE) serveConsole(express, logger);
}
