/**
 * Where a service's CPU goes, from the V8 profiles `BENCH_CPU_PROF=<dir> npm run bench` writes:
 * self time by package (node_modules/<package>, libs/<lib>, services/<service>, node internals,
 * garbage collection) and the functions with the most self time.
 *
 *   node -r ./bench/ts-register.js bench/cpu-profile-summary.ts <dir or .cpuprofile files> [top=25]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The package a script belongs to. */
function packageOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return '(gc)';
  if (functionName === '(program)' || functionName === '(idle)') return functionName;
  if (!url) return '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const own = /\/(libs|services)\/([^/]+)\//.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  return url;
}

function summarise(file: string, top: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;
  const packages = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, time] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    const pkg = packageOf(url, functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + time);
    const name = `${functionName || '(anonymous)'} ${pkg}${url && !url.includes('node_modules') ? '' : ''}:${lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + time);
  }
  const pct = (t: number) => `${((100 * t) / busy).toFixed(1).padStart(5)} %`;
  console.log(`\n${basename(file)}: ${(busy / 1e6).toFixed(1)} s busy of ${(total / 1e6).toFixed(1)} s profiled`);
  console.log('  by package:');
  for (const [pkg, t] of [...packages].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`    ${pct(t)}  ${pkg}`);
  console.log('  by function (self time):');
  for (const [fn, t] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`    ${pct(t)}  ${fn}`);
}

const [target, topArg] = process.argv.slice(2);
if (!target) {
  console.error('usage: cpu-profile-summary.ts <dir or file.cpuprofile> [top]');
  process.exit(2);
}
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort()
      .map((f) => join(target, f))
  : [target];
for (const file of files) summarise(file, Number(topArg ?? 25));
