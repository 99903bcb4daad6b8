import { randomUUID } from 'node:crypto';
import { waitFor, KAFKA_BROKERS } from '@troupe/testing';
import pino from 'pino';
import { KafkajsGateway, type ConsumedMessage } from '../src';

// Real Kafka: the gateway keeps a consumer going after kafkajs gave it up, and moves its fetch
// position with every commit.

const gateway = new KafkajsGateway({ brokers: KAFKA_BROKERS, clientId: 'troupe-test-gateway', logger: pino({ level: 'silent' }) });

afterAll(() => gateway.disconnect());

describe('KafkajsGateway consumers', () => {
  it('given a batch handler that crashes the consumer with a non-retriable error, when consuming, then a new consumer resumes from the last commit and a committed batch is never fetched again', async () => {
    const topic = `troupe.test.${randomUUID()}`;
    await gateway.ensureTopics([{ name: topic, partitions: 1, retentionMs: 3_600_000 }]);
    await gateway.produce([
      { topic, key: 'a', value: 'first', headers: {} },
      { topic, key: 'b', value: 'second', headers: {} },
    ]);
    const processed: string[] = [];
    const offsetsSeen: string[] = [];
    let calls = 0;
    const handle = await gateway.consume({
      groupId: `troupe-test-${randomUUID()}`,
      topics: [topic],
      onBatch: async (batch, controls) => {
        calls++;
        offsetsSeen.push(...batch.messages.map((m) => m.offset));
        // A plain Error is not retriable for kafkajs: on its own, it would stop this consumer for good.
        if (calls === 1) throw new Error('handler bug');
        for (const m of batch.messages as ConsumedMessage[]) processed.push(m.value!.toString());
        await controls.commit(batch.messages[batch.messages.length - 1].offset);
      },
    });
    try {
      await waitFor(() => processed.length === 2, { timeoutMs: 30_000, description: 'both messages after the crash' });
      expect(processed).toEqual(['first', 'second']);
      expect(handle.crashes?.()).toBe(1);
      // Once committed, a batch is not fetched again: the crashed batch, then the same two once more.
      await gateway.produce([{ topic, key: 'c', value: 'third', headers: {} }]);
      await waitFor(() => processed.length === 3, { description: 'the third message' });
      expect(processed).toEqual(['first', 'second', 'third']);
      expect(offsetsSeen).toEqual(['0', '1', '0', '1', '2']);
    } finally {
      await handle.stop();
    }
  });
});
