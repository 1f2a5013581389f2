import { Module } from '@nestjs/common';
import type { Logger } from '../common/logger';
import { APP_CONFIG, LOGGER } from '../common/tokens';
import type { AppConfig } from '../config/app-config';
import { DatabaseModule } from '../database/database.module';
import { DATABASE } from '../database/database.tokens';
import type { Database } from '../database/database.types';
import { EventBus } from '../events/event-bus';
import { MetricsModule } from '../metrics/metrics.module';
import { MetricsService } from '../metrics/metrics.service';
import { MqttModule } from '../mqtt/mqtt.module';
import { MqttRepository } from '../mqtt/mqtt.repository';
import { IngestRunner } from './ingest.runner';
import { IngestService } from './ingest.service';
import { IngestStore } from './ingest.types';
import { PgIngestStore } from './pg-ingest.store';

/** MQTT -> validation -> batched commits -> acknowledgements, announced on the event bus as `ingest.committed`. */
@Module({
  imports: [DatabaseModule, MqttModule, MetricsModule],
  providers: [
    {
      provide: IngestStore,
      inject: [DATABASE, APP_CONFIG],
      useFactory: (db: Database, config: AppConfig) =>
        new PgIngestStore(db, { deadLetterMaxRows: config.ingest.deadLetterMaxRows }),
    },
    {
      provide: IngestService,
      inject: [IngestStore, MqttRepository, DATABASE, APP_CONFIG, MetricsService, LOGGER, EventBus],
      useFactory: (
        store: IngestStore,
        mqtt: MqttRepository,
        db: Database,
        config: AppConfig,
        metrics: MetricsService,
        logger: Logger,
        events: EventBus,
      ) =>
        new IngestService(
          store,
          mqtt,
          // The embedded database is one backend behind one connection: its batches go one at a time.
          { ...config.ingest, commitConcurrency: db.embedded ? 1 : config.ingest.commitConcurrency },
          metrics,
          logger.child({ c: 'ingest' }),
          events,
        ),
    },
    {
      provide: IngestRunner,
      inject: [IngestService, MqttRepository],
      useFactory: (ingest: IngestService, mqtt: MqttRepository) => new IngestRunner(ingest, mqtt),
    },
  ],
  exports: [IngestService],
})
export class IngestModule {}
