import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts an HTTP server on a free loopback port; returns it with its base URL. */
export async function listenOnLoopback(
  handler: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void | Promise<void>,
): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      Promise.resolve(handler(req, Buffer.concat(chunks), res)).catch((error) => {
        res.writeHead(500).end(String(error));
      });
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A free TCP port on loopback (for services the test spawns). */
export async function freePort(): Promise<number> {
  const { server, close } = await listenOnLoopback(() => undefined);
  const { port } = server.address() as AddressInfo;
  await close();
  return port;
}
