import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, freePort, repoRoot, resetTroupeTopics, ServiceProcess } from '@troupe/testing';

export const SECRET = 'whsec_' + Buffer.from('troupe-e2e-webhook-secret-0123456789').toString('base64');
export const ACME_KEY = 'acme-e2e-key-0123456789';
export const ADMIN_KEY = 'ops-e2e-admin-key-0123456789';
export const SERVICES = ['intake', 'classification', 'generation', 'validation', 'delivery'] as const;

/**
 * The five services as processes from their build output on a real broker and a database of their
 * own, with the repository's workflows plus `extraWorkflows` (file name -> YAML).
 */
export async function startTroupe(options: {
  label: string;
  env?: Record<string, string>;
  extraWorkflows?: Record<string, string>;
}) {
  await resetTroupeTopics();
  const db = await createTestDatabase(options.label);
  const workflowsDir = mkdtempSync(join(tmpdir(), 'troupe-workflows-'));
  cpSync(join(repoRoot, 'workflows'), workflowsDir, { recursive: true });
  for (const [name, yaml] of Object.entries(options.extraWorkflows ?? {}))
    writeFileSync(join(workflowsDir, name), yaml);
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    TROUPE_API_KEYS: `acme:submitter:${ACME_KEY},ops:platform:${ADMIN_KEY}`,
    TROUPE_WEBHOOK_SECRETS: `*=${SECRET}`,
    TROUPE_WORKFLOWS_DIR: workflowsDir,
    // The test receivers listen on loopback, which the SSRF guard refuses unless allowlisted.
    TROUPE_EGRESS_ALLOWLIST: '127.0.0.1',
    TROUPE_WEBHOOK_RETRY_BASE_MS: '200',
    TROUPE_WEBHOOK_MAX_ATTEMPTS: '5',
    TROUPE_DELIVERY_POLL_MS: '100',
    TROUPE_OUTBOX_POLL_MS: '200',
    TROUPE_LOG_LEVEL: 'warn',
    OTEL_TRACES_EXPORTER: 'none',
    ...options.env,
  };
  const services = new Map<string, ServiceProcess>();
  for (const name of SERVICES) services.set(name, new ServiceProcess(name, await freePort(), env));
  // Intake first: it creates the topics; the others join after.
  await services.get('intake')!.start();
  await Promise.all(SERVICES.slice(1).map((name) => services.get(name)!.start()));

  const system = {
    env,
    services,
    db,
    get api() {
      return services.get('intake')!.url;
    },
    request(path: string, init: RequestInit & { key?: string } = {}) {
      const headers = new Headers(init.headers);
      if (init.key !== '') headers.set('authorization', `Bearer ${init.key ?? ACME_KEY}`);
      if (init.body) headers.set('content-type', headers.get('content-type') ?? 'application/json');
      return fetch(`${system.api}${path}`, { ...init, headers });
    },
    async submit(body: unknown, key = ACME_KEY) {
      const response = await system.request('/v1/jobs', { method: 'POST', body: JSON.stringify(body), key });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    },
    async job(id: string, key = ACME_KEY) {
      const response = await system.request(`/v1/jobs/${id}`, { key });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    },
    /** Replaces a running service with one started with extra environment (a restart after a fix). */
    async restart(name: (typeof SERVICES)[number], extraEnv: Record<string, string> = {}) {
      const old = services.get(name)!;
      const code = await old.stop();
      const next = new ServiceProcess(name, old.port, { ...env, ...extraEnv });
      await next.start();
      services.set(name, next);
      return code;
    },
    async stop() {
      const codes = await Promise.all([...services.values()].map((s) => s.stop()));
      await db.drop();
      rmSync(workflowsDir, { recursive: true, force: true });
      return codes;
    },
  };
  return system;
}

export type TroupeSystem = Awaited<ReturnType<typeof startTroupe>>;
