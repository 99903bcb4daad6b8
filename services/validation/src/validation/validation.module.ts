import { Module } from '@nestjs/common';
import { JobGeneratedHandler } from './job-generated.handler';
import { OutputValidator } from './output-validator';
import { JobCancelRequestedHandler } from './job-cancel-requested.handler';
import { ReviewDecidedHandler } from './review-decided.handler';
import { ReviewDeadlinePoller } from './review-deadline.poller';
import { ReviewsRepository } from './reviews.repository';
import { ValidationService } from './validation.service';
import { ValidationsRepository } from './validations.repository';

@Module({
  controllers: [JobGeneratedHandler, ReviewDecidedHandler, JobCancelRequestedHandler],
  providers: [
    { provide: OutputValidator, useValue: new OutputValidator() },
    ValidationService,
    ValidationsRepository,
    ReviewsRepository,
    ReviewDeadlinePoller,
  ],
})
export class ValidationModule {}
