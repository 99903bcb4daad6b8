import { Module } from '@nestjs/common';
import { DeadLetterHandler } from './dead-letter.handler';
import { DeadLettersController } from './dead-letters.controller';
import { DeadLettersRepository } from './dead-letters.repository';
import { DeadLettersService } from './dead-letters.service';

@Module({
  controllers: [DeadLettersController, DeadLetterHandler],
  providers: [DeadLettersService, DeadLettersRepository],
})
export class DeadLettersModule {}
