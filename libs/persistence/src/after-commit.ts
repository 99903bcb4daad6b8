import type {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
  TransactionStartEvent,
} from 'typeorm';

/** A callback and the savepoint depth it was registered at (1: the transaction itself). */
interface Pending {
  callback: () => void;
  depth: number;
}

const pending = new WeakMap<QueryRunner, Pending[]>();

/** TypeORM's nesting depth of the runner's transaction (savepoints above 1); protected in its types. */
const depthOf = (runner: QueryRunner): number => (runner as unknown as { transactionDepth: number }).transactionDepth;

/**
 * Runs the callbacks of a transaction once it has committed; forgets them when it rolls back, and
 * those registered inside a savepoint when that savepoint rolls back.
 */
class CommitCallbacks implements EntitySubscriberInterface {
  beforeTransactionStart({ queryRunner }: TransactionStartEvent): void {
    // A new transaction on a runner whose last COMMIT failed: what that one registered is void.
    if (!queryRunner.isTransactionActive) pending.delete(queryRunner);
  }

  afterTransactionCommit({ queryRunner }: TransactionCommitEvent): void {
    if (queryRunner.isTransactionActive) return; // only a savepoint was released: the transaction goes on
    const callbacks = pending.get(queryRunner);
    if (!callbacks) return;
    pending.delete(queryRunner);
    for (const { callback } of callbacks) run(callback);
  }

  afterTransactionRollback({ queryRunner }: TransactionRollbackEvent): void {
    if (!queryRunner.isTransactionActive) {
      pending.delete(queryRunner);
      return;
    }
    // A savepoint rolled back (the depth is already the enclosing one's): drop what it registered.
    const callbacks = pending.get(queryRunner);
    if (callbacks) pending.set(queryRunner, callbacks.filter((p) => p.depth <= depthOf(queryRunner)));
  }
}

const subscriber = new CommitCallbacks();

function run(callback: () => void): void {
  try {
    callback();
  } catch {
    // A wake-up hint must never fail the commit that triggered it.
  }
}

function install(dataSource: DataSource): void {
  // `subscribers` is rebuilt when a data source initializes: check every time (a short array).
  if (!dataSource.subscribers.includes(subscriber)) dataSource.subscribers.push(subscriber);
}

/**
 * Runs `callback` once the transaction `manager` belongs to has committed, or at once when it
 * belongs to none (its statements commit on their own). Nothing runs when it rolls back, nor when a
 * savepoint the callback was registered in rolls back, nor when its COMMIT fails. For work that must
 * follow the commit: in-process wake-ups (due webhooks) and the outbox relay's direct path, which
 * publishes the rows the callback names, so it must run only if they were committed.
 */
export function afterCommit(manager: EntityManager, callback: () => void): void {
  const runner = manager.queryRunner;
  if (!runner || !runner.isTransactionActive) {
    queueMicrotask(() => run(callback));
    return;
  }
  install(manager.connection);
  const entry = { callback, depth: depthOf(runner) };
  const callbacks = pending.get(runner);
  if (callbacks) callbacks.push(entry);
  else pending.set(runner, [entry]);
}
