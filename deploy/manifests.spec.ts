import 'reflect-metadata';
import { readFileSync } from 'node:fs';
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
