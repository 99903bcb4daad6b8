/**
 * An isolated Troupe for the benchmark: its own Kafka broker (own ports and data directory), its own
 * database, the five services from their build output, a stub model, a webhook receiver and, with
 * tracing on, an OTLP receiver. Never the developer's running instance.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { freePort, repoRoot, ServiceProcess } from '@troupe/testing';
import { findProcesses, postgresProcesses } from './cpu';
import { onDatabaseServer } from './report';
import type { HelperRole } from './helpers';

export const SERVICES = ['intake', 'classification', 'generation', 'validation', 'delivery'] as const;
export const API_KEY = 'bench-admin-key-0123456789';
const SECRET = 'whsec_' + Buffer.from('troupe-bench-webhook-secret-0123456789').toString('base64');

export interface StackOptions {
  tracing: boolean;
  partitions: number;
  kafkaPort: number;
  kafkaControllerPort: number;
  /** Extra environment for every service (experiments: pool sizes, batch sizes...). */
  serviceEnv: Record<string, string>;
  /** Processes of each service sharing its consumer group (the chaos run's scale-out mode); 1 by default. */
  replicas?: number;
  /** Start the benchmark's own helpers (stub model, receiver, OTLP); the chaos run needs the stub only. */
  helpers?: HelperRole[];
  /** When set, services run with --cpu-prof and write their profiles here on exit. */
  cpuProfDir?: string;
  log: (line: string) => void;
}

/** The benchmark's workflow: rules classification, one model call to the stub, a JSON Schema gate, a webhook. */
const WORKFLOW = `
id: bench
version: 1
description: The pipeline benchmark's workload.
input: { maxLength: 2000 }
classification:
  kind: rules
  defaultLabel: general
  rules:
    - { label: billing, keywords: [invoice, refund, charged, payment, subscription] }
generation:
  routes:
    default: { model: bench/model, instructions: Draft a short reply to the customer's ticket. }
output:
  schema:
    type: object
    required: [reply]
    additionalProperties: false
    properties: { reply: { type: string, minLength: 20, maxLength: 4000 } }
`;

function catalogue(stubBaseUrl: string): string {
  return `
providers:
  bench: { kind: openai, baseUrl: "${stubBaseUrl}", apiKeyEnv: TROUPE_BENCH_MODEL_KEY, maxConcurrency: 1000, timeoutMs: 30000 }
models:
  bench/model:
    capabilities: { json: true, contextTokens: 128000, maxOutputTokens: 1024 }
    price: { inputPerMTok: 0.15, outputPerMTok: 0.60 }
`;
}

const tsRegister = resolve(__dirname, '../ts-register.js');

export class Helper {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(role: HelperRole, ...args: string[]): Promise<Helper> {
    const child = fork(resolve(__dirname, 'helpers.ts'), [role, ...args], { execArgv: ['-r', tsRegister], stdio: 'inherit' });
    const url = await new Promise<string>((ok, fail) => {
      child.once('message', (m: { url: string }) => ok(m.url));
      child.once('exit', (code) => fail(new Error(`bench helper ${role} exited with ${code}`)));
    });
    return new Helper(child, url);
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(message: unknown): void {
    this.child.send(message as object);
  }

  ask<T>(message: unknown): Promise<T> {
    return new Promise<T>((ok) => {
      this.child.once('message', (m: T) => ok(m));
      this.child.send(message as object);
    });
  }

  stop(): void {
    this.child.kill();
  }
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), ok(true)));
    socket.once('error', () => ok(false));
  });
}

/** The bench's own broker: kafka.sh with its own ports and data directory, fresh each time. */
export class Broker {
  readonly dataDir: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(port: number, controllerPort: number) {
    const home = process.env.TROUPE_HOME ?? join(homedir(), '.cache/troupe');
    this.dataDir = join(home, `bench-kafka-data-${port}`);
    this.env = {
      ...process.env,
      TROUPE_KAFKA_PORT: String(port),
      TROUPE_KAFKA_CONTROLLER_PORT: String(controllerPort),
      TROUPE_KAFKA_DATA: this.dataDir,
    };
  }

  private kafka(command: string): void {
    execFileSync('bash', [resolve(repoRoot, 'deploy/kafka/kafka.sh'), command], { env: this.env, stdio: ['ignore', 'ignore', 'inherit'] });
  }

  async start(port: number): Promise<void> {
    if (await portInUse(port)) {
      throw new Error(`port ${port} is in use: the benchmark runs its own broker there (set BENCH_KAFKA_PORT)`);
    }
    this.kafka('reset');
    this.kafka('up');
  }

  pids(): number[] {
    return findProcesses((cmd) => cmd.includes('kafka.Kafka') && cmd.includes(`${this.dataDir}/server.properties`));
  }

  /** Stops the broker cleanly and starts it again on the same data; returns when it answered. */
  async restart(port: number): Promise<number> {
    this.kafka('down');
    this.kafka('up');
    while (!(await portInUse(port))) await new Promise((r) => setTimeout(r, 50));
    return Date.now();
  }

  stop(): void {
    this.kafka('reset'); // stops it and deletes its data
  }
}

export class Stack {
  /** The first process of each service. */
  readonly services = new Map<string, ServiceProcess>();
  /** Every process of each service (more than one in scale-out mode). */
  readonly replicas = new Map<string, ServiceProcess[]>();
  readonly helpers = new Map<HelperRole, Helper>();
  private broker?: Broker;
  private dbName = '';
  private workDir = '';
  brokers = '';
  databaseUrl = '';

  constructor(private readonly options: StackOptions) {}

  get api(): string {
    return this.services.get('intake')!.url;
  }

  get databaseName(): string {
    return this.dbName;
  }

  get receiverUrl(): string {
    return this.helpers.get('receiver')!.url;
  }

  async start(): Promise<void> {
    const { log, options } = { log: this.options.log, options: this.options };
    log(`starting a broker on 127.0.0.1:${options.kafkaPort}`);
    this.broker = new Broker(options.kafkaPort, options.kafkaControllerPort);
    await this.broker.start(options.kafkaPort);
    this.brokers = `127.0.0.1:${options.kafkaPort}`;

    const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/troupe');
    this.dbName = `troupe_bench_${randomBytes(4).toString('hex')}`;
    await onDatabaseServer((c) => c.query(`CREATE DATABASE ${this.dbName}`));
    base.pathname = `/${this.dbName}`;
    this.databaseUrl = base.toString();

    const helpers = options.helpers ?? ['stub', 'receiver', 'otlp'];
    this.helpers.set('stub', await Helper.start('stub'));
    if (helpers.includes('receiver')) this.helpers.set('receiver', await Helper.start('receiver', SECRET));
    if (options.tracing) this.helpers.set('otlp', await Helper.start('otlp'));

    this.workDir = mkdtempSync(join(tmpdir(), 'troupe-bench-'));
    mkdirSync(join(this.workDir, 'workflows'));
    writeFileSync(join(this.workDir, 'workflows', 'bench.v1.yaml'), WORKFLOW);
    writeFileSync(join(this.workDir, 'models.yaml'), catalogue(this.helpers.get('stub')!.url));

    const env: Record<string, string> = {
      NODE_ENV: 'production',
      DATABASE_URL: this.databaseUrl,
      TROUPE_KAFKA_BROKERS: this.brokers,
      TROUPE_KAFKA_PARTITIONS: String(options.partitions),
      TROUPE_API_KEYS: `bench:admin:${API_KEY}`,
      TROUPE_WEBHOOK_SECRETS: `*=${SECRET}`,
      TROUPE_WORKFLOWS_DIR: join(this.workDir, 'workflows'),
      TROUPE_MODEL_CATALOGUE: join(this.workDir, 'models.yaml'),
      TROUPE_BENCH_MODEL_KEY: 'sk-bench',
      TROUPE_EGRESS_ALLOWLIST: '127.0.0.1',
      ...(options.tracing
        ? { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: this.helpers.get('otlp')!.url }
        : { OTEL_TRACES_EXPORTER: 'none' }),
      ...options.serviceEnv,
    };
    const nodeArgs = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [];
    for (const name of SERVICES) {
      const processes: ServiceProcess[] = [];
      for (let r = 0; r < (options.replicas ?? 1); r++) {
        const args = options.cpuProfDir ? [...nodeArgs, `--cpu-prof-name=${name}.${r}.${Date.now()}.cpuprofile`] : [];
        processes.push(new ServiceProcess(name, await freePort(), env, args));
      }
      this.replicas.set(name, processes);
      this.services.set(name, processes[0]);
    }
    log(`starting the five services (database ${this.dbName}, tracing ${options.tracing ? 'on' : 'off'}, ${options.replicas ?? 1} of each)`);
    await this.services.get('intake')!.start(); // it creates the topics
    await Promise.all([...this.replicas.values()].flat().filter((p) => p !== this.services.get('intake')).map((p) => p.start()));
  }

  get webhookSecret(): string {
    return SECRET;
  }

  /** Stops the stack's broker cleanly and starts it again; returns when it answered. */
  restartBroker(): Promise<number> {
    return this.broker!.restart(this.options.kafkaPort);
  }

  /** Process groups whose CPU time is measured. */
  processGroups(excludePids: number[] = []): Record<string, () => number[]> {
    const pg = postgresProcesses(this.dbName);
    const groups: Record<string, () => number[]> = {};
    for (const [name, processes] of this.replicas) groups[name] = () => processes.flatMap((p) => (p.pid ? [p.pid] : []));
    groups.broker = () => this.broker!.pids();
    groups.postgres = () => pg.backends().filter((pid) => !excludePids.includes(pid));
    groups.postgresServer = pg.server;
    for (const [role, helper] of this.helpers) groups[role] = () => [helper.pid];
    return groups;
  }

  /** Runs a query on the benchmark database (for progress checks). */
  async connect(): Promise<Client> {
    const client = new Client({ connectionString: this.databaseUrl, application_name: 'troupe-bench' });
    await client.connect();
    return client;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.replicas.values()].flat().map((s) => s.stop().catch(() => undefined)));
    for (const helper of this.helpers.values()) helper.stop();
    if (this.dbName) await onDatabaseServer((c) => c.query(`DROP DATABASE IF EXISTS ${this.dbName} WITH (FORCE)`)).catch(() => undefined);
    if (this.workDir) rmSync(this.workDir, { recursive: true, force: true });
    this.broker?.stop();
  }
}
