import { Module } from '@nestjs/common';
import { BudgetsController } from './budgets.controller';
import { BudgetsService } from './budgets.service';
import { SettlementSweeper } from './settlement-sweeper';

@Module({ controllers: [BudgetsController], providers: [BudgetsService, SettlementSweeper] })
export class BudgetsModule {}
