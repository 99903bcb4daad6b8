import { randomUUID } from 'node:crypto';
import { KAFKA_BROKERS, testKafka } from '@troupe/testing';
import { metricsRegistry } from '@troupe/telemetry';
import pino from 'pino';
import { KafkajsGateway, LagMonitor } from '../src';

// Real Kafka: lag comes from the broker's committed offsets and high watermarks, so a group that
// stopped consuming (crashed, stalled) shows its lag and its oldest message's wait growing.

const gateway = new KafkajsGateway({ brokers: KAFKA_BROKERS, clientId: 'troupe-test-lag', logger: pino({ level: 'silent' }) });
const admin = testKafka('troupe-test-lag-admin').admin();

beforeAll(() => admin.connect());
afterAll(async () => {
  await admin.disconnect();
  await gateway.disconnect();
});

const gauge = async (name: string, labels: Record<string, string>) => {
  const metric = (await metricsRegistry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { labels: Record<string, string | number>; value: number }[];
  return values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))?.value;
};

describe('LagMonitor', () => {
  it('given a group that committed part of two partitions and then stopped, when sampled, then the lag per partition and the oldest wait come from the broker', async () => {
    const topic = `troupe.test.${randomUUID()}`;
    const group = `troupe-test-lag-${randomUUID()}`;
    await gateway.ensureTopics([{ name: topic, partitions: 2, retentionMs: 3_600_000 }]);
    const message = (partition: number, i: number) => ({ topic, partition, value: `m${i}` });
    const producer = testKafka('troupe-test-lag-producer').producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => message(0, i)) });
    await producer.send({ topic, messages: Array.from({ length: 4 }, (_, i) => message(1, i)) });

    let now = 1_000_000;
    const monitor = new LagMonitor({ gateway, logger: pino({ level: 'silent' }), consumer: group, topics: [topic], intervalMs: 0, now: () => now });
    // Nothing committed yet: the group would read from the beginning.
    await monitor.sample();
    expect(await gauge('troupe_consumer_lag', { consumer: group, topic, partition: '0' })).toBe(10);
    expect(await gauge('troupe_consumer_lag', { consumer: group, topic, partition: '1' })).toBe(4);

    // The group processed 3 of partition 0 and all of partition 1, then stopped; 5 more arrive later.
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '3' }, { partition: 1, offset: '4' }] });
    now += 30_000;
    await monitor.sample();
    expect(await gauge('troupe_consumer_lag', { consumer: group, topic, partition: '0' })).toBe(7);
    expect(await gauge('troupe_consumer_lag', { consumer: group, topic, partition: '1' })).toBe(0);
    // Offset 3 was on the broker at the first sample: it has waited at least since then.
    expect(await gauge('troupe_consumer_oldest_unprocessed_seconds', { consumer: group })).toBe(30);

    await producer.send({ topic, messages: Array.from({ length: 5 }, (_, i) => message(1, i)) });
    await producer.disconnect();
    now += 60_000;
    await monitor.sample();
    expect(await gauge('troupe_consumer_lag', { consumer: group, topic, partition: '1' })).toBe(5);
    expect(await gauge('troupe_consumer_oldest_unprocessed_seconds', { consumer: group })).toBe(90); // partition 0's, still waiting
    expect(await gauge('troupe_consumer_lag_sampled_timestamp_seconds', { consumer: group })).toBe(now / 1000);

    // Caught up: the gauges fall back.
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '10' }, { partition: 1, offset: '9' }] });
    now += 15_000;
    await monitor.sample();
    expect(await gauge('troupe_consumer_lag', { consumer: group, topic, partition: '0' })).toBe(0);
    expect(await gauge('troupe_consumer_oldest_unprocessed_seconds', { consumer: group })).toBe(0);
  });
});
