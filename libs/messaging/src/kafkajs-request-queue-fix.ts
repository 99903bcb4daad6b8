/**
 * kafkajs 2.2.4, its last release, re-arms a timer of (in effect) 1 ms on every broker connection
 * forever once the first response has arrived, even with no request waiting: every client kept its
 * event loop busy, idle or not (tulios/kafkajs#1556, #1704; the fix of #1667 is unreleased). This
 * applies that fix: a check is scheduled only while requests wait, at the end of a broker throttle
 * or after 10 ms; requests waiting on the in-flight limit are sent when a response frees a slot
 * (kafkajs already checks then).
 */
interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
}

const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

let applied = false;

export function fixKafkajsRequestQueue(): void {
  if (applied) return;
  applied = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: RequestQueueInternals & { scheduleCheckPendingRequests(): void } };
  RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueueInternals) {
    if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
    const delay = Math.max(this.throttledUntil - Date.now(), CHECK_PENDING_REQUESTS_INTERVAL_MS);
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, delay);
  };
}
