import { isLocalInstanceBroker } from './infrastructure';

describe('the tests’ broker guard', () => {
  it.each([
    [['127.0.0.1:9092'], true],
    [['localhost:9092'], true],
    [['[::1]:9092'], true],
    [['127.0.0.1:29092'], false],
    [['127.0.0.1:19592', '127.0.0.1:9092'], true],
    [['kafka.internal:9092'], false],
  ])('given brokers %p, then it is the local instance’s: %p', (brokers, local) => {
    expect(isLocalInstanceBroker(brokers)).toBe(local);
  });
});
