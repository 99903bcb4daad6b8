import { fixKafkajsRequestQueue } from './kafkajs-request-queue-fix';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue');

const logger = { debug() {}, info() {}, warn() {}, error() {} };
const newQueue = () =>
  new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 'test', broker: 'b:1', logger });

describe('kafkajs request queue fix', () => {
  beforeAll(() => fixKafkajsRequestQueue());

  it('given no request waiting, when the queue checks after a response, then it arms no timer (kafkajs 2.2.4 re-armed one for ever)', () => {
    const queue = newQueue();
    queue.checkPendingRequests();
    const armed = queue.throttleCheckTimeoutId;
    clearTimeout(armed); // unfixed, it would re-arm itself for ever and keep the test process alive
    queue.throttleCheckTimeoutId = null;
    expect(armed).toBeNull();
  });

  it('given a request waiting out a broker throttle, when the queue checks, then a timer is armed for the end of the throttle', () => {
    const queue = newQueue();
    queue.throttledUntil = Date.now() + 5_000;
    queue.pending.push({});
    queue.scheduleCheckPendingRequests();
    expect(queue.throttleCheckTimeoutId).not.toBeNull();
    clearTimeout(queue.throttleCheckTimeoutId);
  });
});
