import { Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { APP_CONFIG, LOGGER } from './common/tokens';
import type { AppConfig } from './config/app-config';
import { GlobalExceptionFilter } from './common/global-exception.filter';
import type { Logger } from './common/logger';
import { openDatabase, type Database } from './database/database';
import { PgIngestStore } from './ingest/pg-ingest.store';
import { HealthController } from './health/health.controller';
import { READINESS, type ReadinessProbe } from './health/readiness';
import { IngestService } from './ingest/ingest.service';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService } from './metrics/metrics.service';
import { EmbeddedBroker } from './mqtt/embedded-broker';
import { detectProtocolVersion, MqttRepository } from './mqtt/mqtt.repository';

const DATABASE = Symbol('DATABASE');
const BROKER = Symbol('BROKER');

/**
 * Starts and stops the moving parts in order: database and broker come up before the MQTT session starts feeding
 * ingest; on shutdown MQTT stops first, queued messages are committed, then the database and broker close.
 */
class CentreLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly mqtt: MqttRepository,
    private readonly ingest: IngestService,
    private readonly database: Database,
    private readonly broker: EmbeddedBroker | null,
    private readonly maintenanceIntervalS: number,
    private readonly logger: Logger,
  ) {}

  private maintenance: NodeJS.Timeout | null = null;

  async onApplicationBootstrap(): Promise<void> {
    this.ingest.start();
    await this.mqtt.start((msg) => this.ingest.accept(msg));
    this.maintenance = setInterval(() => {
      this.database
        .runMaintenance()
        .catch((err: Error) => this.logger.warn({ err: err.message }, 'maintenance failed'));
    }, this.maintenanceIntervalS * 1000);
    this.maintenance.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.maintenance) clearInterval(this.maintenance);
    await this.mqtt.stop();
    await this.ingest.stop();
    await this.database.close();
    await this.broker?.close();
  }
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: MetricsService, useValue: new MetricsService() },
        { provide: APP_FILTER, useValue: new GlobalExceptionFilter(logger) },
        {
          provide: BROKER,
          useFactory: () =>
            config.mqtt.url
              ? null
              : EmbeddedBroker.start(
                  config.mqtt.embedded.host,
                  config.mqtt.embedded.port,
                  logger.child({ c: 'broker' }),
                ),
        },
        {
          provide: DATABASE,
          useFactory: () =>
            openDatabase({
              url: config.database.url,
              dataDir: config.database.dataDir,
              embeddedPort: config.database.embeddedPort,
              logger: logger.child({ c: 'database' }),
            }),
        },
        {
          provide: MqttRepository,
          inject: [BROKER],
          useFactory: async (broker: EmbeddedBroker | null) => {
            const url = config.mqtt.url ?? broker!.url;
            const auth = { username: config.mqtt.username, password: config.mqtt.password };
            // The embedded broker is 3.1.1-only and takes $share literally: plain subscription there.
            const protocolVersion = broker ? 4 : await detectProtocolVersion(url, auth);
            return new MqttRepository(
              {
                url,
                ...auth,
                clientId: config.mqtt.clientId,
                shareGroup: broker ? null : config.mqtt.shareGroup,
                protocolVersion,
              },
              logger.child({ c: 'mqtt' }),
            );
          },
        },
        {
          provide: IngestService,
          inject: [DATABASE, MqttRepository, MetricsService],
          useFactory: (db: Database, mqtt: MqttRepository, metrics: MetricsService) =>
            new IngestService(
              new PgIngestStore(db, { deadLetterMaxRows: config.ingest.deadLetterMaxRows }),
              mqtt,
              // The embedded database is one backend behind one connection: its batches go one at a time.
              { ...config.ingest, commitConcurrency: db.embedded ? 1 : config.ingest.commitConcurrency },
              metrics,
              logger.child({ c: 'ingest' }),
            ),
        },
        {
          provide: READINESS,
          inject: [DATABASE, MqttRepository, IngestService],
          useFactory: (db: Database, mqtt: MqttRepository, ingest: IngestService): ReadinessProbe => ({
            check: async () => ({ database: await db.ping(), ingest: ingest.healthy, mqtt: mqtt.isConnected }),
          }),
        },
        {
          provide: CentreLifecycle,
          inject: [MqttRepository, IngestService, DATABASE, BROKER],
          useFactory: (mqtt: MqttRepository, ingest: IngestService, db: Database, broker: EmbeddedBroker | null) =>
            new CentreLifecycle(
              mqtt,
              ingest,
              db,
              broker,
              config.maintenanceIntervalS,
              logger.child({ c: 'lifecycle' }),
            ),
        },
      ],
    };
  }
}
