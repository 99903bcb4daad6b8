import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { static as serveStatic, type Request, type Response } from 'express';
import type { Logger } from 'pino';

/** The console's build output (`console/dist`), found through the workspace package; undefined when not built. */
export function consoleAssetsDir(): string | undefined {
  try {
    const dir = join(dirname(require.resolve('@troupe/console/package.json')), 'dist');
    return existsSync(join(dir, 'index.html')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves the console's static files under /console. They hold no tenant data: every figure the
 * console shows comes from the API with the key the user pastes (see docs/adr/0020).
 */
export function serveConsole(app: NestExpressApplication, logger: Logger): void {
  const dir = consoleAssetsDir();
  if (!dir) {
    logger.warn('the console is not built (npm run build): /console is not served');
    return;
  }
  const index = join(dir, 'index.html');
  app.use('/console', serveStatic(dir, { index: false, immutable: true, maxAge: '365d', fallthrough: true }));
  // Client-side routes: every other /console path is the single page (never cached: it names the hashed assets).
  app.use('/console', (req: Request, res: Response, next: () => void) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    res.sendFile(index);
  });
}
