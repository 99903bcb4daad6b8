import type { EntityManager } from 'typeorm';

/** Work a handler defers to the end of its chunk, to do once for all the chunk's messages. */
export interface DeferredWrite {
  flush(manager: EntityManager): Promise<void>;
}

/**
 * The deferred writes of one chunk transaction, by name. Handlers add rows through
 * `ctx.deferred(name, create)`; the transport flushes them all before the outbox insert and the
 * commit: one statement per table per chunk instead of one round trip per message.
 */
export class ChunkWrites {
  private readonly writes = new Map<string, DeferredWrite>();

  get<T extends DeferredWrite>(name: string, create: () => T): T {
    let write = this.writes.get(name);
    if (!write) {
      write = create();
      this.writes.set(name, write);
    }
    return write as T;
  }

  async flush(manager: EntityManager): Promise<void> {
    for (const write of this.writes.values()) await write.flush(manager);
  }
}

/** PostgreSQL accepts at most 65535 bind parameters per statement. */
const MAX_PARAMS = 65_535;

/**
 * A multi-row INSERT built up row by row and sent as few statements as the parameter limit allows.
 * `suffix` is appended verbatim (e.g. `ON CONFLICT (job_id) DO NOTHING`); table and column names are
 * code, never input.
 */
export class BatchInsert implements DeferredWrite {
  private readonly rows: unknown[][] = [];

  constructor(
    private readonly table: string,
    private readonly columns: string[],
    private readonly suffix = '',
  ) {}

  add(values: unknown[]): this {
    if (values.length !== this.columns.length) {
      throw new Error(`${this.table}: ${values.length} values for ${this.columns.length} columns`);
    }
    this.rows.push(values);
    return this;
  }

  async flush(manager: EntityManager): Promise<void> {
    const perStatement = Math.max(1, Math.floor(MAX_PARAMS / this.columns.length));
    for (let start = 0; start < this.rows.length; start += perStatement) {
      const slice = this.rows.slice(start, start + perStatement);
      const params: unknown[] = [];
      const tuples = slice.map((row) => `(${row.map((v) => `$${params.push(v)}`).join(', ')})`);
      await manager.query(
        `INSERT INTO ${this.table} (${this.columns.join(', ')}) VALUES ${tuples.join(', ')} ${this.suffix}`,
        params,
      );
    }
    this.rows.length = 0;
  }
}
