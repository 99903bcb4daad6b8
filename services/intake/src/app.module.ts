import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TroupeRuntimeModule } from '@troupe/runtime';
import { AuditModule } from './audit/audit.module';
import { ApiKeyGuard } from './auth/api-key.guard';
import { intakeDefinition } from './intake.config';
import { ConsoleModule } from './console/console.module';
import { BudgetsModule } from './budgets/budgets.module';
import { UsageModule } from './usage/usage.module';
import { DeadLettersModule } from './dead-letters/dead-letters.module';
import { JobsModule } from './jobs/jobs.module';
import { KeysModule } from './keys/keys.module';
import { RateLimitGuard } from './rate-limits/rate-limit.guard';
import { RateLimitsModule } from './rate-limits/rate-limits.module';
import { ReplaysModule } from './replays/replays.module';
import { SignalsModule } from './signals/signals.module';
import { WorkflowsModule } from './workflows/workflows.module';

@Module({
  imports: [TroupeRuntimeModule.forService(intakeDefinition), WorkflowsModule, JobsModule, SignalsModule, DeadLettersModule, KeysModule, RateLimitsModule, AuditModule, BudgetsModule, UsageModule, ReplaysModule, ConsoleModule],
  // Guards run in this order: who is calling, then whether its limits allow the request.
  providers: [
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_GUARD, useClass: RateLimitGuard },
  ],
})
export class AppModule {}
