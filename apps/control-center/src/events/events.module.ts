import { Global, Module } from '@nestjs/common';
import type { Logger } from '../common/logger';
import { LOGGER } from '../common/tokens';
import { EventBus } from './event-bus';

/** The one in-process event bus, for every module (producers emit, alerts and pushes subscribe). */
@Global()
@Module({
  providers: [
    {
      provide: EventBus,
      inject: [LOGGER],
      useFactory: (logger: Logger) => new EventBus(logger.child({ c: 'events' })),
    },
  ],
  exports: [EventBus],
})
export class EventsModule {}
