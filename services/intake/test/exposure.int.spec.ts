import { readFileSync } from 'node:fs';
import { createTestDatabase, freePort, ServiceProcess } from '@troupe/testing';

// What the services expose by default: real processes from their build output, the kernel's own
// table of listening sockets, real HTTP.

const METRICS_TOKEN = 'metrics-scraper-token-0123456789';
const ADMIN = 'acme-admin-key-0123456789';
const SUBMITTER = 'acme-submitter-key-0123456789';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const processes: ServiceProcess[] = [];
let intake: ServiceProcess;
let classification: ServiceProcess;

/** The IPv4 addresses a port listens on, from /proc/net/tcp (state 0A: LISTEN). */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A')
    .map((f) => {
      const hex = f[1].split(':')[0];
      return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
    });
}

beforeAll(async () => {
  db = await createTestDatabase('exposure');
  const env = {
    NODE_ENV: 'development',
    DATABASE_URL: db.url,
    TROUPE_API_KEYS: `acme:admin:${ADMIN},acme:submitter:${SUBMITTER}`,
    TROUPE_LOG_LEVEL: 'warn',
    TROUPE_METRICS_TOKEN: METRICS_TOKEN,
    TROUPE_HTTP_HOST: undefined, // each service's default
  };
  intake = new ServiceProcess('intake', await freePort(), env);
  classification = new ServiceProcess('classification', await freePort(), env);
  processes.push(intake, classification);
  await intake.start();
  await classification.start();
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await db?.drop();
});

describe('exposure', () => {
  it('given local mode and no TROUPE_HTTP_HOST, then an internal service listens on loopback only and intake on every interface', () => {
    expect(listeningAddresses(classification.port)).toEqual(['127.0.0.1']);
    expect(listeningAddresses(intake.port)).toEqual(['0.0.0.0']);
  });

  it('given TROUPE_METRICS_TOKEN, when an internal service is scraped, then only the token opens /metrics; the probes stay open', async () => {
    const metrics = (authorization?: string) =>
      fetch(`${classification.url}/metrics`, { headers: authorization ? { authorization } : {} });
    expect((await metrics()).status).toBe(401);
    expect((await metrics('Bearer wrong-token-0123456789')).status).toBe(401);
    expect((await metrics(`Bearer ${ADMIN}`)).status).toBe(401); // API keys mean nothing to internal services
    const ok = await metrics(`Bearer ${METRICS_TOKEN}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('process_cpu_seconds_total');
    expect((await fetch(`${classification.url}/health`)).status).toBe(200);
  });

  it("given TROUPE_METRICS_TOKEN, when intake is scraped, then the token or an admin key open /metrics, a submitter's key does not", async () => {
    const metrics = (authorization?: string) => fetch(`${intake.url}/metrics`, { headers: authorization ? { authorization } : {} });
    expect((await metrics()).status).toBe(401);
    expect((await metrics(`Bearer ${METRICS_TOKEN}`)).status).toBe(200);
    expect((await metrics(`Bearer ${ADMIN}`)).status).toBe(200);
    expect((await metrics(`Bearer ${SUBMITTER}`)).status).toBe(403);
  });
});
