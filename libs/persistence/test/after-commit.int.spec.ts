import { createTestDatabase } from '@troupe/testing';
import type { DataSource } from 'typeorm';
import { afterCommit, createServiceDataSource, migrate } from '../src';

// Real Postgres: callbacks run after the commit, see what it wrote, and never run after a rollback.

let db: { url: string; drop: () => Promise<void> };
let dataSource: DataSource;

beforeAll(async () => {
  db = await createTestDatabase('aftercommit');
  dataSource = createServiceDataSource({ schema: 'after_commit', url: db.url, entities: [], migrations: [] });
  await migrate(dataSource, 'after_commit');
  await dataSource.query(`CREATE TABLE marks (name text PRIMARY KEY)`);
});

afterAll(async () => {
  await dataSource.destroy();
  await db.drop();
});

describe('afterCommit', () => {
  it('given a transaction that registers a callback, when it commits, then the callback runs after the commit and another connection sees the write', async () => {
    const order: string[] = [];
    let visible: Promise<number> | undefined;
    await dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO marks (name) VALUES ('committed')`);
      afterCommit(manager, () => {
        order.push('callback');
        // Another pooled connection sees only committed rows.
        visible = dataSource.query(`SELECT count(*)::int AS n FROM marks WHERE name = 'committed'`).then(([r]) => r.n);
      });
      await new Promise((r) => setImmediate(r));
      order.push('transaction body done');
    });
    expect(order).toEqual(['transaction body done', 'callback']);
    expect(await visible).toBe(1);
  });

  it('given a transaction that registers a callback, when it rolls back, then the callback never runs', async () => {
    let calls = 0;
    await expect(
      dataSource.transaction(async (manager) => {
        await manager.query(`INSERT INTO marks (name) VALUES ('rolled-back')`);
        afterCommit(manager, () => calls++);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    // A later commit on a fresh transaction must not run the dropped callback either.
    await dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO marks (name) VALUES ('later')`);
    });
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(0);
  });

  it('given a manager outside any transaction, when a callback is registered, then it runs at once', async () => {
    await dataSource.manager.query(`INSERT INTO marks (name) VALUES ('autocommit')`);
    await new Promise<void>((resolve) => afterCommit(dataSource.manager, resolve));
  });
});
