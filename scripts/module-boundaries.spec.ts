/**
 * Module boundaries, checked on every import of the source (production code and tests):
 * - a service never imports another service (they talk through Kafka events only);
 * - a lib never imports a service (shared mechanisms do not depend on a domain);
 * - production code never imports @troupe/testing.
 * Imports are read with TypeScript's own pre-processor and resolved as the build resolves them:
 * relative paths to files, `@troupe/<name>` to the workspace package of that name.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import * as ts from 'typescript';

const root = resolve(__dirname, '..');

/** `services/intake`, `libs/messaging`... for a path inside one; undefined elsewhere. */
function moduleOf(path: string): string | undefined {
  const [area, name] = relative(root, path).split(sep);
  return (area === 'services' || area === 'libs') && name ? `${area}/${name}` : undefined;
}

const packages = new Map<string, string>();
for (const area of ['libs', 'services'])
  for (const name of readdirSync(join(root, area))) {
    const manifest = join(root, area, name, 'package.json');
    if (statSync(join(root, area, name)).isDirectory())
      try {
        packages.set(JSON.parse(readFileSync(manifest, 'utf8')).name, `${area}/${name}`);
      } catch {
        // not a package
      }
  }

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (entry === 'node_modules' || entry === 'dist') return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(entry) && !entry.endsWith('.d.ts') ? [path] : [];
  });
}

interface Violation {
  file: string;
  imports: string;
  rule: string;
}

function check(file: string, text = readFileSync(file, 'utf8')): Violation[] {
  const from = moduleOf(file)!;
  const isTest = /\.spec\.ts$/.test(file) || file.includes(`${sep}test${sep}`);
  const found: Violation[] = [];
  for (const { fileName: specifier } of ts.preProcessFile(text, true, true).importedFiles) {
    const target = specifier.startsWith('.')
      ? moduleOf(resolve(dirname(file), specifier))
      : packages.get(specifier.split('/').slice(0, 2).join('/'));
    if (!target || target === from) continue;
    const at = { file: relative(root, file), imports: specifier };
    if (from.startsWith('services/') && target.startsWith('services/')) found.push({ ...at, rule: 'a service imports another service' });
    if (from.startsWith('libs/') && target.startsWith('services/')) found.push({ ...at, rule: 'a lib imports a service' });
    if (target === 'libs/testing' && !isTest && from !== 'libs/testing') found.push({ ...at, rule: 'production code imports @troupe/testing' });
  }
  return found;
}

const files = ['libs', 'services'].flatMap((area) => sources(join(root, area)));

describe('module boundaries', () => {
  it('given every source file of the libs and services, then none crosses a boundary', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.flatMap((file) => check(file))).toEqual([]);
  });

  it('given imports that cross one, then the check reports each', () => {
    const at = (path: string) => join(root, path);
    expect(check(at('services/intake/src/x.ts'), "import { StepRunner } from '../../generation/src/steps/step-runner';")).toMatchObject([
      { rule: 'a service imports another service' },
    ]);
    expect(check(at('services/intake/src/x.ts'), "import { x } from '@troupe/delivery';")).toMatchObject([{ rule: 'a service imports another service' }]);
    expect(check(at('libs/messaging/src/x.ts'), "export * from '../../../services/delivery/src/webhooks/webhook-sender';")).toMatchObject([
      { rule: 'a lib imports a service' },
    ]);
    expect(check(at('libs/runtime/src/x.ts'), "import { waitFor } from '@troupe/testing';")).toMatchObject([{ rule: 'production code imports @troupe/testing' }]);
    expect(check(at('libs/runtime/test/x.int.spec.ts'), "import { waitFor } from '@troupe/testing';")).toEqual([]);
    expect(check(at('services/intake/src/x.ts'), "import { TOPICS } from '@troupe/contracts'; import { y } from './y';")).toEqual([]);
  });
});
