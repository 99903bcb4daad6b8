import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SERVICE_CONFIG } from '@troupe/runtime';
import { DataSource } from 'typeorm';
import type { IntakeConfig } from '../intake.config';
import { BudgetLedger } from './budget-ledger';
import { toPico } from './money';

/**
 * Settles jobs that ended long ago but whose ledger never reached what the stages reported (an
 * event lost for good, a dead letter): their reservations are released, so budget capacity does not
 * leak. One small query a minute per intake; rows are claimed with SKIP LOCKED, so replicas share it.
 */
@Injectable()
export class SettlementSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private readonly ledger = new BudgetLedger();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep().catch(() => undefined), 60_000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Returns the jobs it settled. */
  async sweep(): Promise<string[]> {
    return this.dataSource.transaction(async (manager) => {
      const rows: { id: string; cost_usd: string | null }[] = await manager.query(
        `SELECT id, cost_usd::text FROM jobs
          WHERE settled_at IS NULL AND ended_at < now() - make_interval(secs => $1)
          ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED`,
        [this.config.TROUPE_BUDGET_SETTLE_AFTER_SECONDS],
      );
      if (rows.length === 0) return [];
      const settled = await this.ledger.apply(
        manager,
        rows.map((r) => ({ jobId: r.id, added: 0n, cost: toPico(r.cost_usd), expected: 0n, ended: true, settled: false })),
      );
      await manager.query(`UPDATE jobs SET settled_at = now() WHERE id = ANY($1::uuid[])`, [settled]);
      return settled;
    });
  }
}
