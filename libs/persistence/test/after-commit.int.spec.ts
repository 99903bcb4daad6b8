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

describe('afterCommit with savepoints and failed commits', () => {
  it('given a callback registered inside a savepoint that rolls back, when the transaction commits, then only the callbacks outside it run', async () => {
    const ran: string[] = [];
    await dataSource.transaction(async (manager) => {
      afterCommit(manager, () => ran.push('outer'));
      await expect(
        manager.transaction(async (inner) => {
          await inner.query(`INSERT INTO marks (name) VALUES ('in-savepoint')`);
          afterCommit(inner, () => ran.push('rolled-back savepoint'));
          throw new Error('abort the savepoint');
        }),
      ).rejects.toThrow('abort the savepoint');
      await manager.transaction(async (inner) => afterCommit(inner, () => ran.push('released savepoint')));
    });
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual(['outer', 'released savepoint']);
    expect((await dataSource.query(`SELECT count(*)::int AS n FROM marks WHERE name = 'in-savepoint'`))[0].n).toBe(0);
  });

  it('given a transaction whose COMMIT fails, when its query runner starts and commits another, then the failed one\'s callbacks never run', async () => {
    await dataSource.query(`CREATE TABLE IF NOT EXISTS deferred_unique (n int UNIQUE DEFERRABLE INITIALLY DEFERRED)`);
    const runner = dataSource.createQueryRunner();
    let calls = 0;
    try {
      await runner.startTransaction();
      // Deferred: the duplicate is only found at COMMIT, which then fails.
      await runner.query(`INSERT INTO deferred_unique (n) VALUES (1), (1)`);
      afterCommit(runner.manager, () => calls++);
      await expect(runner.commitTransaction()).rejects.toThrow(/duplicate key/);
      // As EntityManager.transaction does after a failed commit.
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      await runner.startTransaction();
      await runner.query(`INSERT INTO deferred_unique (n) VALUES (2)`);
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(0);
  });
});
