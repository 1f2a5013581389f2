import {
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Logger } from '../common/logger';
import { APP_CONFIG, LOGGER } from '../common/tokens';
import type { AppConfig } from '../config/app-config';
import { DatabaseModule } from '../database/database.module';
import { EvidenceRepository } from '../database/repositories/evidence.repository';
import { DATABASE } from '../database/database.tokens';
import type { Database } from '../database/database.types';
import { EventBus } from '../events/event-bus';
import { AlertSource } from './alert-source';
import { AlertController } from './alert.controller';
import { AlertRepository } from './alert.repository';
import { AlertService } from './alert.service';
import { ViolationExportRepository } from './violation-export.repository';
import { ViolationExportService } from './violation-export.service';

/**
 * Subscribes the alert source to the bus once everything is built (before ingest starts its MQTT session); at
 * shutdown, lets the batches already handed over commit, and stays subscribed until the shutdown phase so the
 * batches ingest commits while stopping still raise their alerts.
 */
class AlertSourceLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly source: AlertSource,
    private readonly events: EventBus,
  ) {}

  onApplicationBootstrap(): void {
    this.source.attach(this.events);
  }

  async beforeApplicationShutdown(): Promise<void> {
    // Batches fail at most once more from here: the process must exit even while the database is down.
    this.source.stopRetrying();
    await this.source.idle();
  }

  async onApplicationShutdown(): Promise<void> {
    this.source.detach();
    await this.source.idle();
  }
}

/** Alerts from edge events and system conditions, and the operator workflow over them (the service, and its routes under `api/alerts`). */
@Module({
  imports: [DatabaseModule],
  controllers: [AlertController],
  providers: [
    { provide: AlertRepository, inject: [DATABASE], useFactory: (db: Database) => new AlertRepository(db) },
    {
      provide: AlertService,
      inject: [AlertRepository, EventBus, EvidenceRepository],
      useFactory: (repo: AlertRepository, events: EventBus, evidence: EvidenceRepository) =>
        new AlertService(repo, events, evidence),
    },
    {
      provide: ViolationExportService,
      inject: [DATABASE],
      useFactory: (db: Database) => new ViolationExportService(new ViolationExportRepository(db)),
    },
    {
      provide: AlertSource,
      inject: [AlertService, AlertRepository, APP_CONFIG, LOGGER],
      useFactory: (service: AlertService, repo: AlertRepository, config: AppConfig, logger: Logger) =>
        new AlertSource(
          service,
          repo,
          {
            cameraDownAfterMs: config.alerts.cameraDownAfterS * 1000,
            occurrenceWindowMs: config.alerts.occurrenceWindowS * 1000,
          },
          logger.child({ c: 'alerts' }),
        ),
    },
    {
      provide: AlertSourceLifecycle,
      inject: [AlertSource, EventBus],
      useFactory: (source: AlertSource, events: EventBus) => new AlertSourceLifecycle(source, events),
    },
  ],
  exports: [AlertService, AlertRepository],
})
export class AlertsModule {}
