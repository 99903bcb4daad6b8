import 'reflect-metadata';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICES, topicSpecs } from '@troupe/contracts';
import type { ServiceDefinition } from '@troupe/runtime';
import { parse, parseAllDocuments } from 'yaml';
import { classificationDefinition } from '../services/classification/src/classification.config';
import { deliveryDefinition } from '../services/delivery/src/delivery.config';
import { generationDefinition } from '../services/generation/src/generation.config';
import { intakeDefinition } from '../services/intake/src/intake.config';
import { validationDefinition } from '../services/validation/src/validation.config';

// docker-compose.yml and k8s/ cannot be run here (no Docker engine, no cluster), so they are
// checked statically against the code: services, ports, probes, topics and variable names.

const root = join(__dirname, '..');
const definitions: Record<string, ServiceDefinition> = {
  intake: intakeDefinition,
  classification: classificationDefinition,
  generation: generationDefinition,
  validation: validationDefinition,
  delivery: deliveryDefinition,
};
/** Variables the model catalogue names for provider keys and base URLs (`apiKeyEnv`, `baseUrlEnv`). */
const catalogueVariables = new Set(
  [...readFileSync(join(root, 'config/models.yaml'), 'utf8').matchAll(/^\s*\w+Env:\s*(\w+)/gm)].map((m) => m[1]),
);
/** Variables read outside the zod schemas: the image's entry point, the OpenTelemetry SDK, the catalogue's. */
const knownOutsideSchema = (name: string) =>
  name === 'TROUPE_SERVICE' || name.startsWith('OTEL_') || catalogueVariables.has(name);
const unknownVariables = (service: string, names: string[]) =>
  names.filter((n) => !knownOutsideSchema(n) && !(n in definitions[service].configSchema.shape));

/* eslint-disable @typescript-eslint/no-explicit-any */
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as any;
const kustomization = parse(readFileSync(join(root, 'k8s/base/kustomization.yaml'), 'utf8')) as any;
const k8s: any[] = (kustomization.resources as string[]).flatMap((file) =>
  parseAllDocuments(readFileSync(join(root, 'k8s/base', file), 'utf8')).map((d) => d.toJS()).filter(Boolean),
);
const ofKind = (kind: string) => k8s.filter((r) => r.kind === kind);

describe('docker-compose.yml', () => {
  it('given the five services, when composed, then each runs from the image with its own port and only variables its config knows', () => {
    for (const service of SERVICES) {
      const entry = compose.services[service];
      expect(entry.environment.TROUPE_SERVICE).toBe(service);
      expect(Number(entry.environment.PORT)).toBe(definitions[service].defaultPort);
      expect(entry.depends_on).toMatchObject({ kafka: {}, postgres: {} });
      expect({ service, unknown: unknownVariables(service, Object.keys(entry.environment)) }).toEqual({ service, unknown: [] });
    }
    expect(compose.services.kafka.environment.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
    expect(compose.services.jaeger.environment.COLLECTOR_OTLP_ENABLED).toBe('true');
  });
});

describe('k8s/base', () => {
  it('given a Deployment per service, when read, then each has probes on /ready and /health, its port, and known variables', () => {
    const config = ofKind('ConfigMap').find((c) => c.metadata.name === 'troupe-config');
    for (const service of SERVICES) {
      const deployment = ofKind('Deployment').find((d) => d.metadata.name === `troupe-${service}`);
      const container = deployment.spec.template.spec.containers[0];
      expect(container.readinessProbe.httpGet.path).toBe('/ready');
      expect(container.livenessProbe.httpGet.path).toBe('/health');
      expect(container.ports[0].containerPort).toBe(definitions[service].defaultPort);
      expect(container.resources.requests).toBeDefined();
      const names = [...container.env.map((e: { name: string }) => e.name), ...Object.keys(config.data)];
      expect({ service, unknown: unknownVariables(service, names) }).toEqual({ service, unknown: [] });
      expect(ofKind('Service').some((s) => s.metadata.name === `troupe-${service}`)).toBe(true);
      const scaler = ofKind('ScaledObject').find((s) => s.metadata.name === `troupe-${service}`);
      expect(scaler.triggers?.[0] ?? scaler.spec.triggers[0]).toMatchObject({ type: 'kafka', metadata: { consumerGroup: `troupe-${service}` } });
    }
  });

  it('given the Strimzi topics, when compared with the contracts, then names, partitions and retention match', () => {
    const partitions = Number(ofKind('ConfigMap')[0].data.TROUPE_KAFKA_PARTITIONS);
    const declared = ofKind('KafkaTopic').map((t) => ({
      name: t.spec.topicName,
      partitions: t.spec.partitions,
      retentionMs: Number(t.spec.config['retention.ms']),
    }));
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect(declared.sort(byName)).toEqual(topicSpecs(partitions).sort(byName));
  });
});

describe('deploy/observability', () => {
  /** Every metric the code defines, from the `name:` of its prom-client metrics (a static read, like the rest here). */
  const sources = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return e.name === 'dist' || e.name === 'node_modules' ? [] : sources(path);
      return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [path] : [];
    });
  const defined = new Set(
    ['libs', 'services'].flatMap((d) => sources(join(root, d))).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/name: '((?:troupe|gen_ai)_[a-z0-9_]+)'/g)].map((m) => m[1]),
    ),
  );
  const known = (name: string) => defined.has(name) || defined.has(name.replace(/_(bucket|sum|count)$/, ''));
  /** Metric names in a PromQL expression (labels such as gen_ai_request_model are not metrics). */
  const metricsIn = (expr: string) => [...expr.matchAll(/\b(troupe_[a-z0-9_]+|gen_ai_client_[a-z0-9_]+)\b/g)].map((m) => m[1]);

  it('given the example Grafana dashboard, when read, then every panel queries metrics the services export', () => {
    const dashboard = JSON.parse(readFileSync(join(root, 'deploy/observability/grafana-dashboard.json'), 'utf8'));
    const exprs: string[] = dashboard.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr));
    expect(exprs.length).toBeGreaterThan(15);
    const unknown = exprs.flatMap(metricsIn).filter((m) => !known(m));
    expect(unknown).toEqual([]);
    // What an operator watches (issue: lag, oldest message, HTTP, e2e, webhooks, dead letters, review queue, GenAI).
    for (const m of [
      'troupe_consumer_lag',
      'troupe_consumer_oldest_unprocessed_seconds',
      'troupe_http_requests_total',
      'troupe_job_e2e_seconds_bucket',
      'troupe_webhook_attempts_total',
      'troupe_dead_letters',
      'troupe_review_queue_depth',
      'gen_ai_client_operation_duration_seconds_bucket',
      'gen_ai_client_token_usage_sum',
    ]) {
      expect({ m, used: exprs.some((e) => metricsIn(e).includes(m)) }).toEqual({ m, used: true });
    }
  });

  it('given the example alert rules, when read, then each names known metrics and has a severity and a summary', () => {
    const rules = (parse(readFileSync(join(root, 'deploy/observability/prometheus-alerts.yml'), 'utf8')) as any).groups.flatMap((g: any) => g.rules);
    expect(rules.length).toBeGreaterThan(10);
    for (const rule of rules) {
      expect({ alert: rule.alert, unknown: metricsIn(String(rule.expr)).filter((m) => !known(m)) }).toEqual({ alert: rule.alert, unknown: [] });
      expect(['page', 'ticket']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toEqual(expect.any(String));
    }
  });

  it('given docker-compose.yml, then Jaeger publishes the OTLP port that docs/operations.md tells services on the host to use', () => {
    expect(readFileSync(join(root, 'docs/operations.md'), 'utf8')).toContain('OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318');
    expect(compose.services.jaeger.ports).toContain('4318:4318');
  });
});
