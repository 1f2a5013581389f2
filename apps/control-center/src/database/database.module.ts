import { Module, type Provider } from '@nestjs/common';
import type { Logger } from '../common/logger';
import { APP_CONFIG, LOGGER } from '../common/tokens';
import type { AppConfig } from '../config/app-config';
import { openDatabase } from './database';
import { DATABASE } from './database.tokens';
import type { Database } from './database.types';
import { MaintenanceScheduler } from './maintenance.scheduler';
import { DeadLetterRepository } from './repositories/dead-letter.repository';
import { DeliveryLossRepository } from './repositories/delivery-loss.repository';
import { DeliveryStateRepository } from './repositories/delivery-state.repository';
import { EvidenceRepository } from './repositories/evidence.repository';
import { FlowReportRepository } from './repositories/flow-report.repository';
import { IngestRepository } from './repositories/ingest.repository';

/** A repository built on the open database (explicit factories: `npm start` runs under tsx, no decorator metadata). */
function repository<T>(type: new (db: Database) => T): Provider {
  return { provide: type, inject: [DATABASE], useFactory: (db: Database) => new type(db) };
}

/** What features may inject: one statement set per table family. */
const REPOSITORIES = [
  IngestRepository,
  DeadLetterRepository,
  DeliveryStateRepository,
  DeliveryLossRepository,
  EvidenceRepository,
  FlowReportRepository,
];

const repositoryProviders: Provider[] = [
  repository(IngestRepository),
  repository(DeliveryStateRepository),
  repository(DeliveryLossRepository),
  repository(EvidenceRepository),
  repository(FlowReportRepository),
  {
    provide: DeadLetterRepository,
    inject: [DATABASE, APP_CONFIG],
    useFactory: (db: Database, config: AppConfig) => new DeadLetterRepository(db, config.ingest.deadLetterMaxRows),
  },
];

/**
 * The centre's database: opened (embedded PGlite or a server, migrated) before anything that depends on it is
 * built, closed by its own shutdown hook once everything that writes to it has stopped; its housekeeping schedule.
 * Exports the database and the repositories.
 */
@Module({
  providers: [
    {
      provide: DATABASE,
      inject: [APP_CONFIG, LOGGER],
      useFactory: (config: AppConfig, logger: Logger): Promise<Database> =>
        openDatabase({
          url: config.database.url,
          dataDir: config.database.dataDir,
          embeddedPort: config.database.embeddedPort,
          logger: logger.child({ c: 'database' }),
        }),
    },
    {
      provide: MaintenanceScheduler,
      inject: [DATABASE, APP_CONFIG, LOGGER],
      useFactory: (db: Database, config: AppConfig, logger: Logger) =>
        new MaintenanceScheduler(db, config.maintenanceIntervalS * 1000, logger.child({ c: 'maintenance' })),
    },
    ...repositoryProviders,
  ],
  exports: [DATABASE, ...REPOSITORIES],
})
export class DatabaseModule {}
