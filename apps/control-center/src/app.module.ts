import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AlertsModule } from './alerts/alerts.module';
import { AuthModule } from './auth/auth.module';
import { GlobalExceptionFilter } from './common/global-exception.filter';
import type { Logger } from './common/logger';
import { LOGGER } from './common/tokens';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { DocsModule } from './docs/docs.module';
import { EventsModule } from './events/events.module';
import { EvidenceModule } from './evidence/evidence.module';
import { HealthModule } from './health/health.module';
import { IngestModule } from './ingest/ingest.module';
import { MetricsModule } from './metrics/metrics.module';
import { MqttModule } from './mqtt/mqtt.module';
import { PushModule } from './push/push.module';
import { UsersModule } from './users/users.module';

/**
 * The centre: one module per feature, each owning its providers and their lifecycle. Start-up: the database
 * (migrated) and the broker come up while their modules are built; once everything exists, ingest starts the MQTT
 * session (IngestRunner). Shutdown: MQTT stops and ingest commits what it holds (before-shutdown phase), then the
 * database and the broker close (shutdown phase).
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config, logger),
        EventsModule,
        DatabaseModule,
        MqttModule,
        MetricsModule,
        IngestModule,
        AlertsModule,
        EvidenceModule,
        HealthModule,
        UsersModule,
        AuthModule,
        DocsModule,
        PushModule,
      ],
      providers: [
        {
          provide: APP_FILTER,
          inject: [LOGGER],
          useFactory: (log: Logger) => new GlobalExceptionFilter(log.child({ c: 'http' })),
        },
      ],
    };
  }
}
