import type { CommonConfig } from '@troupe/config';
import { groupTiming } from './kafka-connection';

const config = (session: number, heartbeat: number) =>
  ({ TROUPE_KAFKA_SESSION_TIMEOUT_MS: session, TROUPE_KAFKA_HEARTBEAT_INTERVAL_MS: heartbeat }) as CommonConfig;

describe('consumer group timing', () => {
  it('given a heartbeat within a third of the session, then it is kept', () => {
    expect(groupTiming(config(6_000, 1_000))).toEqual({ sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000 });
  });

  it('given a heartbeat longer than a third of the session, then it is capped there', () => {
    expect(groupTiming(config(6_000, 5_000))).toEqual({ sessionTimeoutMs: 6_000, heartbeatIntervalMs: 2_000 });
  });
});
