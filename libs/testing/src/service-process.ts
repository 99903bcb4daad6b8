import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { waitFor } from './wait-for';

/** Repository root (libs/testing/src -> ../../..). */
export const repoRoot = resolve(__dirname, '../../..');

/**
 * A Troupe service running as its own process from its build output (`npm run build` first), as
 * in production. Output is kept for the test's failure messages.
 */
export class ServiceProcess {
  private child?: ChildProcess;
  readonly output: string[] = [];

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    /** Extra `node` flags, e.g. `--cpu-prof` for the benchmark's profiles. */
    private readonly nodeArgs: string[] = [],
  ) {}

  /** The process id while it runs (the benchmark reads its CPU time from /proc). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Starts the process and waits until it is ready (`until: 'health'`: only until it serves HTTP,
   * which a restarted service does before its consumer has rejoined its group).
   */
  async start(options: { until?: 'ready' | 'health' } = {}): Promise<void> {
    const probe = options.until === 'health' ? 'health' : 'ready';
    // Loopback unless the test says otherwise (`TROUPE_HTTP_HOST: undefined`: the service's default).
    const env: NodeJS.ProcessEnv = { ...process.env, TROUPE_HTTP_HOST: '127.0.0.1', ...this.env, PORT: String(this.port) };
    for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
    const child = spawn(process.execPath, [...this.nodeArgs, resolve(repoRoot, `services/${this.name}/dist/main.js`)], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString('utf8'));
      if (this.output.length > 400) this.output.splice(0, this.output.length - 400);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${this.name} exited:\n${this.logs()}`);
        const response = await fetch(`${this.url}/${probe}`).catch(() => undefined);
        return response?.ok;
      },
      { timeoutMs: 60_000, intervalMs: 50, description: `${this.name} to answer /${probe}` },
    );
  }

  /** SIGTERM, then wait for a clean exit; returns the exit code. */
  async stop(): Promise<number | null> {
    const child = this.child;
    // A process that already ended (a crash or a kill, which sets signalCode and no exitCode) emits no
    // further 'exit': waiting for one would wait for ever.
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(timer);
    // An unclean exit fails the test that stops it; its last log lines say why.
    if (code !== 0) process.stderr.write(`\n${this.name} exited with ${code}; its last log lines:\n${this.logs(80)}\n`);
    return code;
  }

  /** Dies at once, as in a crash: no draining, no commits. Resolves once the process is gone. */
  kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    return exited;
  }

  logs(lines = 40): string {
    return this.output.join('').split('\n').slice(-lines).join('\n');
  }
}
