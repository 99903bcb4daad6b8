import { Module, type OnModuleInit } from '@nestjs/common';
import { queryGauge } from '@troupe/runtime';
import { DataSource } from 'typeorm';
import { DeadLetterHandler } from './dead-letter.handler';
import { DeadLettersController } from './dead-letters.controller';
import { DeadLettersRepository } from './dead-letters.repository';
import { DeadLettersService } from './dead-letters.service';

@Module({
  controllers: [DeadLettersController, DeadLetterHandler],
  providers: [DeadLettersService, DeadLettersRepository],
})
export class DeadLettersModule implements OnModuleInit {
  constructor(private readonly dataSource: DataSource) {}

  /** Letters, not attempts: each is recorded once (the inbox drops a redelivered one). */
  onModuleInit(): void {
    queryGauge(this.dataSource, {
      name: 'troupe_dead_letters',
      help: 'Dead letters held, by stage and code (an increase is a new letter)',
      labelNames: ['stage', 'code'] as const,
      sql: `SELECT stage, code, count(*) AS value FROM dead_letters GROUP BY 1, 2`,
    });
  }
}
