import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface RatePolicy {
  /** The policy's name in the RateLimit headers: `key` or `tenant`. */
  name: string;
  subject: string;
  requestsPerSecond: number;
  burst: number;
}

export interface RateDecision {
  policy: RatePolicy;
  allowed: boolean;
  /** Requests left now. */
  remaining: number;
  /** Seconds until the bucket is full again (allowed) or until the next request may pass (refused). */
  resetSeconds: number;
}

const IN_FLIGHT = ['requested', 'classified', 'generated', 'awaiting_review'];

/**
 * A generic cell rate algorithm (GCRA, the token bucket as one timestamp) kept in Postgres so that
 * every intake replica draws from the same bucket: one statement per request and policy, which both
 * decides and records, atomically under the row's lock.
 */
@Injectable()
export class RateLimiter {
  constructor(private readonly dataSource: DataSource) {}

  async take(policy: RatePolicy): Promise<RateDecision> {
    const interval = 1 / policy.requestsPerSecond;
    const tolerance = (policy.burst - 1) * interval;
    const rows: { tat: number; now: number }[] = await this.dataSource.query(
      `WITH t AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now)
       INSERT INTO rate_limits AS r (subject, tat) SELECT $1, t.now + $2 FROM t
       ON CONFLICT (subject) DO UPDATE SET tat = greatest(r.tat, (SELECT now FROM t)) + $2
         WHERE greatest(r.tat, (SELECT now FROM t)) - (SELECT now FROM t) <= $3
       RETURNING tat, (SELECT now FROM t) AS now`,
      [policy.subject, interval, tolerance],
    );
    if (rows[0]) {
      const ahead = rows[0].tat - rows[0].now;
      return {
        policy,
        allowed: true,
        remaining: Math.max(0, Math.floor((policy.burst * interval - ahead) / interval + 1e-9)),
        resetSeconds: Math.max(0, Math.ceil(ahead)),
      };
    }
    const [state]: { tat: number; now: number }[] = await this.dataSource.query(
      `SELECT tat, extract(epoch FROM clock_timestamp())::float8 AS now FROM rate_limits WHERE subject = $1`,
      [policy.subject],
    );
    const wait = state ? state.tat - tolerance - state.now : interval;
    return { policy, allowed: false, remaining: 0, resetSeconds: Math.max(1, Math.ceil(wait)) };
  }

  /** Jobs of the tenant not yet finished, counted up to `limit` (enough to decide). */
  async jobsInFlight(tenantId: string, limit: number): Promise<number> {
    const rows: { n: number }[] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM jobs WHERE tenant_id = $1 AND status = ANY($2::text[]) AND replay_id IS NULL LIMIT $3) x`,
      [tenantId, IN_FLIGHT, limit],
    );
    return rows[0].n;
  }
}
