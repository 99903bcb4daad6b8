import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { deadLetterTopic, SERVICES } from '@troupe/contracts';
import { RAW_MESSAGES, type ConsumedMessage, type MessageContext } from '@troupe/messaging';
import { DeadLettersService } from './dead-letters.service';

/** Indexes every stage's dead letters: the whole record (value unparsed), keyed by its position. */
@Controller()
export class DeadLetterHandler {
  constructor(private readonly letters: DeadLettersService) {}

  @EventPattern(SERVICES.map((s) => deadLetterTopic(s)), { [RAW_MESSAGES]: 'record' })
  handle(@Payload() record: ConsumedMessage, @Ctx() ctx: MessageContext): void {
    this.letters.index(record, ctx);
  }
}
