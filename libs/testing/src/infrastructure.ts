import { randomBytes } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { Client } from 'pg';
import { waitFor } from './wait-for';

// Tests run on a broker and databases of their own (npm test starts the broker on 29092): they delete
// topics and consumer groups, which must never touch a running `npm run start:local` (9092, `troupe`).
export const KAFKA_BROKERS = (process.env.TROUPE_KAFKA_BROKERS ?? '127.0.0.1:29092').split(',');
const BASE_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/troupe_test';

/** The broker `npm run start:local` uses: the tests' clean-slate reset refuses to run against it. */
export const LOCAL_INSTANCE_BROKER_PORT = 9092;

/** Whether `brokers` is the local instance's broker (loopback, port 9092). */
export function isLocalInstanceBroker(brokers: readonly string[]): boolean {
  return brokers.some((b) => {
    const match = /^(?:\[(.+)\]|([^:]+)):(\d+)$/.exec(b.trim());
    const host = match?.[1] ?? match?.[2];
    return Number(match?.[3]) === LOCAL_INSTANCE_BROKER_PORT && ['127.0.0.1', 'localhost', '::1', '0.0.0.0'].includes(host ?? '');
  });
}

export function testKafka(clientId = 'troupe-test'): Kafka {
  return new Kafka({ clientId, brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
}

/** A database of its own for one test file: `<base>_<label>_<random>`; drop it with the returned function. */
export async function createTestDatabase(label: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = new URL(BASE_DATABASE_URL);
  const name = `troupe_${label}_${randomBytes(4).toString('hex')}`;
  const admin = new URL(BASE_DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  base.pathname = `/${name}`;
  return {
    url: base.toString(),
    drop: async () => {
      const c = new Client({ connectionString: admin.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * Gives the end-to-end tests a clean slate: deletes Troupe's topics and consumer groups (the
 * services recreate the topics at start-up), so no earlier run's messages are replayed.
 */
export async function resetTroupeTopics(): Promise<void> {
  if (isLocalInstanceBroker(KAFKA_BROKERS) && process.env.TROUPE_TEST_ALLOW_LOCAL_BROKER !== 'true') {
    throw new Error(
      `refusing to delete Troupe's topics on ${KAFKA_BROKERS.join(',')}: that is the broker of \`npm run start:local\`. ` +
        'Run the tests with `npm test` (its own broker on 29092), or set TROUPE_TEST_ALLOW_LOCAL_BROKER=true if nothing runs there.',
    );
  }
  const admin = testKafka('troupe-test-reset').admin();
  await admin.connect();
  try {
    // Committed offsets of an earlier run must not survive: a group that still has members (a
    // process not yet gone) cannot be deleted, so wait until every troupe- group is.
    await waitFor(
      async () => {
        const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith('troupe-'));
        if (groups.length === 0) return true;
        await admin.deleteGroups(groups).catch(() => undefined);
        return false;
      },
      { timeoutMs: 45_000, intervalMs: 500, description: 'earlier consumer groups to be deleted' },
    );
    const topics = (await admin.listTopics()).filter((t) => /^troupe\.(job\.|dlq\.|review\.|signals$|results\.)/.test(t));
    if (topics.length > 0) {
      await admin.deleteTopics({ topics, timeout: 30_000 });
      await waitFor(async () => (await admin.listTopics()).every((t) => !topics.includes(t)), {
        timeoutMs: 30_000,
        description: 'topics to be deleted',
      });
    }
  } finally {
    await admin.disconnect();
  }
}

/** Reads a topic from the beginning with a throw-away consumer group until `until` holds. */
export async function readTopicUntil(topic: string, until: (messages: KafkaMessage[]) => boolean, timeoutMs = 30_000) {
  const consumer = testKafka().consumer({ groupId: `troupe-test-reader-${randomUUID()}` });
  const seen: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.push(message) });
  try {
    await waitFor(() => until(seen), { timeoutMs, description: `messages on ${topic}` });
    return seen;
  } finally {
    await consumer.disconnect();
  }
}
