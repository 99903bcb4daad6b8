import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { SIGNALS_TOPIC } from '@troupe/contracts';
import { RAW_MESSAGES, type MessageContext } from '@troupe/messaging';
import { SignalsService } from './signals.service';

/** Other systems publish plain JSON signals (no CloudEvents headers needed): a raw topic. */
@Controller()
export class SignalHandler {
  constructor(private readonly signals: SignalsService) {}

  @EventPattern(SIGNALS_TOPIC, { [RAW_MESSAGES]: true })
  async handle(@Payload() signal: unknown, @Ctx() ctx: MessageContext): Promise<void> {
    await this.signals.accept(signal, ctx);
  }
}
