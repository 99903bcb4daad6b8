import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KafkajsGateway } from '@troupe/messaging';
import { freePort, repoRoot, waitFor } from '@troupe/testing';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaConnectionOptions } from '@troupe/runtime';

// TLS and SASL/SCRAM to a real broker: the project's launcher starts a broker of its own with a
// SASL_SSL listener, on free ports and a fresh data directory, with certificates made here.

const USER = 'troupe-app';
const PASSWORD = randomBytes(12).toString('hex');
let dir: string;
let env: NodeJS.ProcessEnv;
let saslPort: number;
let caFile: string;

const launcher = (command: 'up' | 'down') =>
  execFileSync('bash', [resolve(repoRoot, 'deploy/kafka/kafka.sh'), command], { env, stdio: 'pipe', timeout: 120_000 }).toString();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'troupe-kafka-tls-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  // A CA, and a broker certificate it signs for 127.0.0.1 / localhost.
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=troupe-test-ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.pem', '-days', '1', '-extfile', 'san.ext');
  const keystorePassword = randomBytes(8).toString('hex');
  openssl('pkcs12', '-export', '-in', 'broker.pem', '-inkey', 'broker.key', '-certfile', 'ca.pem', '-out', 'broker.p12', '-passout', `pass:${keystorePassword}`);
  caFile = join(dir, 'ca.pem');
  saslPort = await freePort();
  env = {
    ...process.env,
    TROUPE_KAFKA_PORT: String(await freePort()),
    TROUPE_KAFKA_CONTROLLER_PORT: String(await freePort()),
    TROUPE_KAFKA_DATA: join(dir, 'data'),
    TROUPE_KAFKA_SASL_SSL_PORT: String(saslPort),
    TROUPE_KAFKA_SSL_KEYSTORE: join(dir, 'broker.p12'),
    TROUPE_KAFKA_SSL_KEYSTORE_PASSWORD: keystorePassword,
    TROUPE_KAFKA_SCRAM_USERS: `${USER}:${PASSWORD}`,
  };
  launcher('up');
});

afterAll(() => {
  if (env) launcher('down');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const options = (overrides: Record<string, unknown> = {}) =>
  kafkaConnectionOptions({
    TROUPE_KAFKA_SSL: true,
    TROUPE_KAFKA_SSL_CA_FILE: caFile,
    TROUPE_KAFKA_SASL_MECHANISM: 'scram-sha-256',
    TROUPE_KAFKA_SASL_USERNAME: USER,
    TROUPE_KAFKA_SASL_PASSWORD: PASSWORD,
    ...overrides,
  });
// Refusals are asserted without retries; the round trip retries as services do (a fresh broker's
// first group join finds no coordinator until the offsets topic exists).
const client = (o: ReturnType<typeof options>, retries = 8) =>
  new Kafka({ clientId: 'troupe-tls-test', brokers: [`127.0.0.1:${saslPort}`], logLevel: logLevel.NOTHING, retry: { retries }, ...o });

describe('Kafka over TLS with SASL/SCRAM', () => {
  it.each(['scram-sha-256', 'scram-sha-512'] as const)('given %s over TLS, when the gateway connects, then it reaches the broker and a message makes the round trip', async (mechanism) => {
    const o = options({ TROUPE_KAFKA_SASL_MECHANISM: mechanism });
    const gateway = new KafkajsGateway({ brokers: [`127.0.0.1:${saslPort}`], clientId: 'troupe-tls-test', ...o });
    try {
      await gateway.ping();
    } finally {
      await gateway.disconnect();
    }
    const kafka = client(o);
    const topic = `troupe.test.tls-${mechanism}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'over tls' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: `troupe-tls-test-${mechanism}` });
    const received: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void received.push(String(message.value)) });
    try {
      await waitFor(() => received.length > 0, { timeoutMs: 60_000, description: 'the message over TLS' });
    } finally {
      await consumer.disconnect();
    }
    expect(received).toEqual(['over tls']);
  });

  it('given a wrong password, a client without TLS, or TLS without the CA, when connecting, then the broker is not reached', async () => {
    const refused = async (o: ReturnType<typeof options>) => {
      const admin = client(o, 0).admin();
      try {
        await admin.connect();
        await admin.describeCluster();
        return 'connected';
      } catch (error) {
        return (error as Error).message;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    };
    expect(await refused(options({ TROUPE_KAFKA_SASL_PASSWORD: 'not-the-password' }))).toMatch(/SASL|[Aa]uthentication/);
    expect(await refused(options({ TROUPE_KAFKA_SSL: false }))).not.toBe('connected');
    expect(await refused(options({ TROUPE_KAFKA_SSL_CA_FILE: undefined }))).toMatch(/certificate/i);
  });

  it('given a SASL mechanism without credentials, then the options are refused before any connection', () => {
    expect(() => options({ TROUPE_KAFKA_SASL_PASSWORD: undefined })).toThrow(/TROUPE_KAFKA_SASL_USERNAME and TROUPE_KAFKA_SASL_PASSWORD/);
  });
});
