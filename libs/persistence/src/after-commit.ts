import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';

const pending = new WeakMap<QueryRunner, (() => void)[]>();

/** Runs the callbacks of a transaction once it has committed; forgets them when it rolls back. */
class CommitCallbacks implements EntitySubscriberInterface {
  afterTransactionCommit({ queryRunner }: TransactionCommitEvent): void {
    if (queryRunner.isTransactionActive) return; // only a savepoint was released: the transaction goes on
    const callbacks = pending.get(queryRunner);
    if (!callbacks) return;
    pending.delete(queryRunner);
    for (const callback of callbacks) run(callback);
  }

  afterTransactionRollback({ queryRunner }: TransactionRollbackEvent): void {
    if (!queryRunner.isTransactionActive) pending.delete(queryRunner);
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
 * belongs to none (its statements commit on their own). Nothing runs when it rolls back. For
 * in-process wake-ups after a commit (the outbox relay, due webhooks): work that reads what the
 * transaction wrote and must not look before it is visible. A rolled-back savepoint does not drop
 * callbacks, so treat them as hints that may come once too often, never as proof of a write.
 */
export function afterCommit(manager: EntityManager, callback: () => void): void {
  const runner = manager.queryRunner;
  if (!runner || !runner.isTransactionActive) {
    queueMicrotask(() => run(callback));
    return;
  }
  install(manager.connection);
  const callbacks = pending.get(runner);
  if (callbacks) callbacks.push(callback);
  else pending.set(runner, [callback]);
}
