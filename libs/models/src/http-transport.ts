import http from 'node:http';
import https from 'node:https';

/** A provider's answer, read whole. */
export interface HttpResponse {
  status: number;
  headers: HeaderBag;
  text: string;
}

/** Read access to response headers (names lower-case): what `Headers` offers, without its cost per response. */
export interface HeaderBag {
  get(name: string): string | null;
}

/** Larger answers are cut off as an error rather than buffered without end. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

// Keep-alive pools shared by every adapter: a model call reuses a warm connection (and TLS session).
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' }),
};

/**
 * POSTs a JSON body with node:http(s) and keep-alive agents. Chosen over `fetch` (undici) for the
 * model path because it costs a third to a quarter of the CPU per call, which decides the overhead
 * at high concurrency (see the benchmark). Rejects with the socket error (its `code`, e.g.
 * ECONNREFUSED) or an AbortError when `signal` aborts.
 */
export function postJson(
  url: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const transport = target.protocol === 'https:' ? https : http;
    const payload = Buffer.from(body, 'utf8');
    const request = transport.request(
      target,
      {
        method: 'POST',
        agent: agents[target.protocol as 'http:' | 'https:'],
        headers: { ...headers, 'content-length': String(payload.length) },
        signal,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            response.destroy(new Error(`the response exceeds ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('aborted', () =>
          reject(Object.assign(new Error('the response was cut off'), { code: 'ECONNRESET' })),
        );
        response.on('end', () => {
          const raw = response.headers;
          const headers: HeaderBag = {
            get: (name) => {
              const value = raw[name.toLowerCase()];
              return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
            },
          };
          resolve({
            status: response.statusCode ?? 0,
            headers,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}
