import { Module } from '@nestjs/common';
import { ClassificationsRepository } from './classifications.repository';
import { ClassifierService } from './classifier.service';
import { JobCancelRequestedHandler } from './job-cancel-requested.handler';
import { JobDataEraseRequestedHandler } from './job-data-erase-requested.handler';
import { JobRequestedHandler } from './job-requested.handler';
import { modelRuntimeProvider } from './model-runtime.provider';

@Module({
  controllers: [JobRequestedHandler, JobCancelRequestedHandler, JobDataEraseRequestedHandler],
  providers: [modelRuntimeProvider, ClassifierService, ClassificationsRepository],
})
export class ClassifierModule {}
