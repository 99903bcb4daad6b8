import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { LOGGER, runPeriodically, SERVICE_CONFIG } from '@troupe/runtime';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { Principal } from '../auth/api-keys';
import type { IntakeConfig } from '../intake.config';

/** One audited action. Other modules call `AuditService.record` for theirs (e.g. budget changes). */
export interface AuditRecord {
  principal: Principal;
  /** `<noun>.<verb>`, e.g. `job.create`, `key.revoke`, `budget.update`. */
  action: string;
  target: { type: string; id?: string | null };
  outcome: 'succeeded' | 'failed';
  /** The HTTP status answered, when the action came over HTTP. */
  status?: number;
  errorCode?: string;
  /** Small and never secret: names and settings, not payloads or keys. */
  details?: Record<string, unknown>;
}

export interface AuditEntry {
  id: string;
  at: string;
  tenantId: string;
  keyId: string;
  role: string;
  action: string;
  targetType: string;
  targetId: string | null;
  outcome: 'succeeded' | 'failed';
  status: number | null;
  errorCode: string | null;
  details: Record<string, unknown>;
}

export interface AuditFilter {
  /** undefined: every tenant (platform operators). */
  tenant?: string;
  action?: string;
  keyId?: string;
  targetId?: string;
  outcome?: 'succeeded' | 'failed';
  since?: string;
  until?: string;
  limit: number;
  after?: { at: string; id: string };
}

const COLUMNS = 'tenant_id, key_id, role, action, target_type, target_id, outcome, status, error_code, details';
/**
 * The append-only audit log. Records made in the same tick share one INSERT (a burst of job
 * creations costs one write), and each caller waits for its record to be stored.
 */
@Injectable()
export class AuditService implements OnModuleInit, OnModuleDestroy {
  private pending: { row: unknown[]; done: (error?: unknown) => void }[] = [];
  private stopSweeping?: () => void;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: IntakeConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    // Retention: every replica sweeps; deleting rows another has deleted is a no-op.
    this.stopSweeping = runPeriodically('audit retention sweep', this.config.TROUPE_AUDIT_SWEEP_INTERVAL_MS, () => this.sweep(), this.logger);
  }

  onModuleDestroy(): void {
    this.stopSweeping?.();
  }

  record(r: AuditRecord): Promise<void> {
    const row = [
      r.principal.tenantId,
      r.principal.keyId,
      r.principal.role,
      r.action,
      r.target.type,
      r.target.id ?? null,
      r.outcome,
      r.status ?? null,
      r.errorCode ?? null,
      JSON.stringify(r.details ?? {}),
    ];
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ row, done: (error) => (error ? reject(error) : resolve()) });
      if (this.pending.length === 1) setImmediate(() => void this.flush());
    });
  }

  async list(f: AuditFilter): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: (n: number) => string, value: unknown) => where.push(clause(params.push(value)));
    if (f.tenant !== undefined) add((n) => `tenant_id = $${n}`, f.tenant);
    if (f.action) add((n) => `action = $${n}`, f.action);
    if (f.keyId) add((n) => `key_id = $${n}`, f.keyId);
    if (f.targetId) add((n) => `target_id = $${n}`, f.targetId);
    if (f.outcome) add((n) => `outcome = $${n}`, f.outcome);
    if (f.since) add((n) => `at >= $${n}::timestamptz`, f.since);
    if (f.until) add((n) => `at < $${n}::timestamptz`, f.until);
    if (f.after) {
      const at = params.push(f.after.at);
      const id = params.push(f.after.id);
      where.push(`(at, id) < ($${at}::timestamptz, $${id}::bigint)`);
    }
    const limit = params.push(f.limit);
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT id::text, at, ${COLUMNS} FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY at DESC, id DESC LIMIT $${limit}`,
      params,
    );
    return rows.map((r) => ({
      id: r.id as string,
      at: (r.at as Date).toISOString(),
      tenantId: r.tenant_id as string,
      keyId: r.key_id as string,
      role: r.role as string,
      action: r.action as string,
      targetType: r.target_type as string,
      targetId: r.target_id as string | null,
      outcome: r.outcome as 'succeeded' | 'failed',
      status: r.status as number | null,
      errorCode: r.error_code as string | null,
      details: r.details as Record<string, unknown>,
    }));
  }

  /** Deletes entries older than TROUPE_AUDIT_RETENTION_DAYS; returns how many. */
  async sweep(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT set_config('troupe.audit_retention', 'on', true)`);
      const [, count]: [unknown, number] = await manager.query(
        `DELETE FROM audit_log WHERE at < now() - make_interval(days => $1)`,
        [this.config.TROUPE_AUDIT_RETENTION_DAYS],
      );
      return count;
    });
  }

  private async flush(): Promise<void> {
    // At most 1000 rows (10 000 parameters) per statement; the rest in the next tick.
    const batch = this.pending.splice(0, 1000);
    if (this.pending.length > 0) setImmediate(() => void this.flush());
    const width = batch[0].row.length;
    const values = batch.map((_, i) => `(${Array.from({ length: width }, (_, j) => `$${i * width + j + 1}`).join(', ')})`);
    try {
      await this.dataSource.query(`INSERT INTO audit_log (${COLUMNS}) VALUES ${values.join(', ')}`, batch.flatMap((b) => b.row));
      for (const b of batch) b.done();
    } catch (error) {
      for (const b of batch) b.done(error);
    }
  }
}
