import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { SignalHandler } from './signal.handler';
import { SignalsService } from './signals.service';

@Module({ imports: [JobsModule], controllers: [SignalHandler], providers: [SignalsService] })
export class SignalsModule {}
