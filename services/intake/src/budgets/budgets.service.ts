import { randomUUID } from 'node:crypto';
import { HttpStatus, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { SERVICE_CONFIG } from '@troupe/runtime';
import { DataSource } from 'typeorm';
import type { Principal } from '../auth/api-keys';
import type { IntakeConfig } from '../intake.config';
import { IntakeErrorCode, IntakeException } from '../http/intake.exception';
import type { CreateBudgetRequest } from './budgets.api';
import { periodEnd, periodStart, type BudgetPeriod } from './budget-period';

/**
 * Budget administration, tenant-scoped. Every change to a budget goes through `create` and
 * `remove` here: the one place an audit log hooks in.
 */
@Injectable()
export class BudgetsService implements OnApplicationBootstrap {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: IntakeConfig,
  ) {}

  /** TROUPE_BUDGETS: created or updated by (tenant, name), counters kept; every intake may do it at once. */
  async onApplicationBootstrap(): Promise<void> {
    for (const b of this.config.TROUPE_BUDGETS) {
      await this.dataSource.query(
        `INSERT INTO budgets (id, tenant_id, name, workflow_id, key_id, period, limit_usd, thresholds, alert_webhook_url, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'config')
         ON CONFLICT (tenant_id, name) DO UPDATE SET workflow_id = EXCLUDED.workflow_id, key_id = EXCLUDED.key_id,
           period = EXCLUDED.period, limit_usd = EXCLUDED.limit_usd, thresholds = EXCLUDED.thresholds,
           alert_webhook_url = EXCLUDED.alert_webhook_url, source = 'config', updated_at = now()`,
        [randomUUID(), b.tenantId, b.name, b.workflowId ?? null, b.keyId ?? null, b.period, b.limitUsd, thresholdsJson(b.thresholds), b.alertWebhook?.url ?? null],
      );
    }
  }

  async create(principal: Principal, request: CreateBudgetRequest) {
    const id = randomUUID();
    try {
      await this.dataSource.query(
        `INSERT INTO budgets (id, tenant_id, name, workflow_id, key_id, period, limit_usd, thresholds, alert_webhook_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [id, principal.tenantId, request.name, request.workflowId ?? null, request.keyId ?? null, request.period, request.limitUsd,
          thresholdsJson(request.thresholds), request.alertWebhook?.url ?? null],
      );
    } catch (error) {
      if ((error as { code?: string }).code === '23505') {
        throw new IntakeException(IntakeErrorCode.BUDGET_NAME_TAKEN, HttpStatus.CONFLICT, `a budget named ${request.name} exists already`);
      }
      throw error;
    }
    return this.get(principal, id);
  }

  async list(principal: Principal) {
    const rows = await this.dataSource.query(`SELECT * FROM budgets WHERE tenant_id = $1 ORDER BY name`, [principal.tenantId]);
    return { items: await Promise.all(rows.map((r: BudgetRecord) => this.view(r))) };
  }

  async get(principal: Principal, id: string) {
    const [row] = UUID.test(id) ? await this.dataSource.query(`SELECT * FROM budgets WHERE tenant_id = $1 AND id = $2`, [principal.tenantId, id]) : [];
    if (!row) throw new IntakeException(IntakeErrorCode.BUDGET_NOT_FOUND, HttpStatus.NOT_FOUND, `no budget ${id}`);
    return this.view(row);
  }

  async remove(principal: Principal, id: string): Promise<void> {
    const [, count] = UUID.test(id) ? await this.dataSource.query(`DELETE FROM budgets WHERE tenant_id = $1 AND id = $2`, [principal.tenantId, id]) : [[], 0];
    if (!count) throw new IntakeException(IntakeErrorCode.BUDGET_NOT_FOUND, HttpStatus.NOT_FOUND, `no budget ${id}`);
  }

  private async view(b: BudgetRecord) {
    const start = periodStart(b.period, new Date());
    const [p] = await this.dataSource.query(
      `SELECT spent_usd::text, reserved_usd::text, thresholds_crossed FROM budget_periods WHERE budget_id = $1 AND period_start = $2`,
      [b.id, start.toISOString()],
    );
    const spent = Number(p?.spent_usd ?? 0);
    const reserved = Number(p?.reserved_usd ?? 0);
    return {
      id: b.id,
      name: b.name,
      workflowId: b.workflow_id ?? undefined,
      keyId: b.key_id ?? undefined,
      period: b.period,
      limitUsd: Number(b.limit_usd),
      thresholds: b.thresholds,
      alertWebhook: b.alert_webhook_url ? { url: b.alert_webhook_url } : undefined,
      current: {
        periodStart: start.toISOString(),
        resetsAt: periodEnd(b.period, start)?.toISOString() ?? null,
        spentUsd: spent,
        reservedUsd: reserved,
        remainingUsd: Math.max(0, Number(b.limit_usd) - spent - reserved),
        thresholdsCrossed: p?.thresholds_crossed ?? [],
      },
    };
  }
}

interface BudgetRecord {
  id: string;
  name: string;
  workflow_id: string | null;
  key_id: string | null;
  period: BudgetPeriod;
  limit_usd: string;
  thresholds: number[];
  alert_webhook_url: string | null;
}

const thresholdsJson = (t: number[]) => JSON.stringify([...new Set(t)].sort((a, b) => a - b));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
