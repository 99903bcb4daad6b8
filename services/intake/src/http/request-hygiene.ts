import { HttpStatus } from '@nestjs/common';
import { findUnstorableText } from '@troupe/contracts';
import type { NextFunction, Request, Response } from 'express';
import { IntakeErrorCode, IntakeException } from './intake.exception';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * 415 for a body that is not JSON, before the JSON parser skips it silently (the handler would then
 * see no body and answer a misleading 400). An empty body needs no type.
 */
export function requireJsonBodies(req: Request, _res: Response, next: NextFunction): void {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (!BODY_METHODS.has(req.method) || !hasBody || req.is(['application/json', 'application/*+json'])) return next();
  next(
    new IntakeException(
      IntakeErrorCode.UNSUPPORTED_MEDIA_TYPE,
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      `the body must be application/json, not ${req.headers['content-type'] ?? 'untyped'}`,
    ),
  );
}

/**
 * 400 INVALID_TEXT for text PostgreSQL cannot store (NUL, lone surrogates) anywhere in the path, the
 * query or the body: refused at the door, with the field's path, rather than failing in a store.
 */
export function refuseUnstorableText(req: Request, _res: Response, next: NextFunction): void {
  let path: string;
  try {
    path = decodeURIComponent(req.path);
  } catch {
    return next(new IntakeException(IntakeErrorCode.MALFORMED_URL, HttpStatus.BAD_REQUEST, 'the URL path is not valid percent-encoded UTF-8'));
  }
  const found =
    findUnstorableText(path) !== undefined
      ? { where: 'path', path: '(root)', message: 'contains a NUL character or a lone surrogate' }
      : withPlace('query', findUnstorableText(req.query)) ?? withPlace('body', findUnstorableText(req.body));
  if (!found) return next();
  next(
    new IntakeException(IntakeErrorCode.INVALID_TEXT, HttpStatus.BAD_REQUEST, `the request's ${found.where} holds text that cannot be stored`, [
      { path: found.where === 'path' ? '(path)' : found.path, message: found.message },
    ]),
  );
}

const withPlace = (where: string, found: { path: string; message: string } | undefined) => found && { where, ...found };

/**
 * The methods a path answers to, from the Express router's routes (Nest registers every controller
 * route there): a path that exists under another method gets 405 with `Allow`, not 404.
 */
export function allowedMethods(req: Request): string[] {
  const stack = (req.app as unknown as { router?: { stack?: RouterLayer[] } }).router?.stack ?? [];
  const methods = new Set<string>();
  for (const layer of stack) {
    if (!layer.route || typeof layer.match !== 'function') continue;
    try {
      if (!layer.match(req.path)) continue;
    } catch {
      continue;
    }
    for (const [method, on] of Object.entries(layer.route.methods ?? {})) {
      if (on && method !== '_all') methods.add(method.toUpperCase());
    }
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

interface RouterLayer {
  route?: { methods?: Record<string, boolean> };
  match?: (path: string) => boolean;
}
