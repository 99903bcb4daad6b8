import type { IncomingMessage, ServerResponse } from 'node:http';
import { httpRequestSeconds, httpRequests } from '@troupe/telemetry';

/**
 * Express middleware counting requests and timing them by route. The route is Express's pattern
 * (`/v1/jobs/:id`), known once the request has been routed; a path no route matched counts as
 * `unmatched`, so a scan of random URLs cannot grow the label set.
 */
export function httpMetrics() {
  return (req: IncomingMessage & { route?: { path?: string } }, res: ServerResponse, next: () => void) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const route = typeof req.route?.path === 'string' ? req.route.path : 'unmatched';
      const method = req.method ?? 'GET';
      httpRequests.inc({ method, route, status: String(res.statusCode) });
      httpRequestSeconds.observe({ method, route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
