import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { WorkflowDefinitionSchema, type WorkflowDefinition } from '@troupe/contracts';
import { validateWorkflow } from '@troupe/workflow';
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

  static load(dir: string, options: ParseOptions = {}): WorkflowRegistry {
    const registry = new WorkflowRegistry();
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
    } catch (error) {
      throw new Error(`TROUPE_WORKFLOWS_DIR: cannot read ${dir}: ${(error as Error).message}`);
    }
    if (files.length === 0) throw new Error(`TROUPE_WORKFLOWS_DIR: no workflow files in ${dir}`);
    for (const file of files) registry.add(parseWorkflowFile(join(dir, file), relative(process.cwd(), join(dir, file)), options));
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

export interface ParseOptions {
  /** Whether the model catalogue knows a `<provider>/<model>`; models are not checked without it. */
  isKnownModel?: (ref: string) => boolean;
}

export function parseWorkflowFile(path: string, displayName = path, options: ParseOptions = {}): WorkflowDefinition {
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
      parsed.error.issues.map((i) => `${fieldPath(raw, i.path)}: ${i.message}`),
    );
  }
  // The graph, the schemas, the route labels and the models: every problem, each with its step and field.
  const { issues } = validateWorkflow(parsed.data, { isKnownModel: options.isKnownModel });
  if (issues.length > 0) throw new WorkflowFileError(displayName, issues.map((i) => `${i.path}: ${i.message}`));
  return parsed.data;
}

/** A zod issue's path, naming a step by its id: `steps.summarise.model` rather than `steps.1.model`. */
function fieldPath(raw: unknown, path: (string | number)[]): string {
  if (path.length === 0) return '(root)';
  const steps = (raw as { steps?: unknown })?.steps;
  if (path[0] === 'steps' && typeof path[1] === 'number' && Array.isArray(steps)) {
    const id = (steps[path[1]] as { id?: unknown })?.id;
    const head = typeof id === 'string' && id ? `steps.${id}` : `steps[${path[1]}]`;
    return [head, ...path.slice(2)].join('.');
  }
  return path.join('.');
}
