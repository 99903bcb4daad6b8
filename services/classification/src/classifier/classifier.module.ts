import { Module } from '@nestjs/common';
import { ClassificationsRepository } from './classifications.repository';
import { ClassifierService } from './classifier.service';
import { JobRequestedHandler } from './job-requested.handler';

@Module({
  controllers: [JobRequestedHandler],
  providers: [ClassifierService, ClassificationsRepository],
})
export class ClassifierModule {}
