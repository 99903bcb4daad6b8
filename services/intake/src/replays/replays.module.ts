import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { WorkflowsModule } from '../workflows/workflows.module';
import { ReplaysController } from './replays.controller';
import { ReplaysRepository } from './replays.repository';
import { ReplaysService } from './replays.service';

@Module({ imports: [JobsModule, WorkflowsModule], controllers: [ReplaysController], providers: [ReplaysService, ReplaysRepository] })
export class ReplaysModule {}
