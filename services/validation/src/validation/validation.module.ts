import { Module, type OnModuleInit } from '@nestjs/common';
import { queryGauge } from '@troupe/runtime';
import { DataSource } from 'typeorm';
import { JobGeneratedHandler } from './job-generated.handler';
import { OutputValidator } from './output-validator';
import { JobCancelRequestedHandler } from './job-cancel-requested.handler';
import { JobDataEraseRequestedHandler } from './job-data-erase-requested.handler';
import { ReviewDecidedHandler } from './review-decided.handler';
import { ReviewDeadlinePoller } from './review-deadline.poller';
import { ReviewsRepository } from './reviews.repository';
import { ValidationService } from './validation.service';
import { ValidationsRepository } from './validations.repository';

@Module({
  controllers: [JobGeneratedHandler, ReviewDecidedHandler, JobCancelRequestedHandler, JobDataEraseRequestedHandler],
  providers: [
    { provide: OutputValidator, useValue: new OutputValidator() },
    ValidationService,
    ValidationsRepository,
    ReviewsRepository,
    ReviewDeadlinePoller,
  ],
})
export class ValidationModule implements OnModuleInit {
  constructor(private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    queryGauge(this.dataSource, {
      name: 'troupe_review_queue_depth',
      help: 'Outputs held for human review and not yet decided, by tenant and state (pending, escalated)',
      labelNames: ['tenant', 'status'] as const,
      sql: `SELECT tenant_id AS tenant, status, count(*) AS value FROM reviews WHERE status IN ('pending', 'escalated') GROUP BY 1, 2`,
    });
  }
}
