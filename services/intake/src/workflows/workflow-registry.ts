import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { WorkflowDefinitionSchema, type WorkflowDefinition } from '@troupe/contracts';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

/** A workflow file that does not validate; the message names the file and the field. */
export class WorkflowFileError extends Error {
  constructor(file: string, problems: string[]) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'WorkflowFileError';
  }
}

/**
 * All workflow versions declared under the workflows folder (`*.yaml`, `*.yml`, `*.json`), validated
 * at start-up. One file holds one version; a job pins the version it starts with.
 */
export class WorkflowRegistry {
  private readonly versions = new Map<string, Map<number, WorkflowDefinition>>();

  static load(dir: string): WorkflowRegistry {
    const registry = new WorkflowRegistry();
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
    } catch (error) {
      throw new Error(`TROUPE_WORKFLOWS_DIR: cannot read ${dir}: ${(error as Error).message}`);
    }
    if (files.length === 0) throw new Error(`TROUPE_WORKFLOWS_DIR: no workflow files in ${dir}`);
    for (const file of files) registry.add(parseWorkflowFile(join(dir, file), relative(process.cwd(), join(dir, file))));
    return registry;
  }

  add(definition: WorkflowDefinition, file = definition.id): void {
    const versions = this.versions.get(definition.id) ?? new Map<number, WorkflowDefinition>();
    if (versions.has(definition.version)) {
      throw new WorkflowFileError(file, [`version: ${definition.id} v${definition.version} is declared twice`]);
    }
    versions.set(definition.version, definition);
    this.versions.set(definition.id, versions);
  }

  /** The given version, or the newest when none is given; undefined when unknown. */
  resolve(id: string, version?: number): WorkflowDefinition | undefined {
    const versions = this.versions.get(id);
    if (!versions) return undefined;
    if (version !== undefined) return versions.get(version);
    return versions.get(Math.max(...versions.keys()));
  }

  has(id: string): boolean {
    return this.versions.has(id);
  }

  list(): WorkflowDefinition[] {
    return [...this.versions.values()].flatMap((v) => [...v.values()]).sort((a, b) => a.id.localeCompare(b.id) || a.version - b.version);
  }
}

export function parseWorkflowFile(path: string, displayName = path): WorkflowDefinition {
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new WorkflowFileError(displayName, [`cannot parse: ${(error as Error).message}`]);
  }
  const parsed = WorkflowDefinitionSchema.safeParse(raw);
  if (!parsed.success) {
    throw new WorkflowFileError(
      displayName,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  // The output schema must itself be a valid JSON Schema: catch it here, not at the first job.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  try {
    ajv.compile(parsed.data.output.schema);
  } catch (error) {
    throw new WorkflowFileError(displayName, [`output.schema: ${(error as Error).message}`]);
  }
  const classifier = parsed.data.classification;
  const labels = new Set([
    ...classifier.rules.map((r) => r.label),
    ...(classifier.kind === 'llm' ? classifier.labels : []),
    classifier.defaultLabel,
  ]);
  const unknownRoutes = Object.keys(parsed.data.generation.routes).filter((r) => r !== 'default' && !labels.has(r));
  if (unknownRoutes.length > 0) {
    throw new WorkflowFileError(displayName, [
      `generation.routes: ${unknownRoutes.join(', ')} match no classification label (${[...labels].join(', ')})`,
    ]);
  }
  const reviewLabels = (parsed.data.review?.when ?? []).map((c) => c.label).filter((l): l is string => l !== undefined && !labels.has(l));
  if (reviewLabels.length > 0) {
    throw new WorkflowFileError(displayName, [`review.when: label ${reviewLabels.join(', ')} is no classification label (${[...labels].join(', ')})`]);
  }
  return parsed.data;
}
