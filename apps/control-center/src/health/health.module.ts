import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { DATABASE } from '../database/database.tokens';
import type { Database } from '../database/database.types';
import { IngestModule } from '../ingest/ingest.module';
import { IngestService } from '../ingest/ingest.service';
import { MqttModule } from '../mqtt/mqtt.module';
import { MqttRepository } from '../mqtt/mqtt.repository';
import { HealthController } from './health.controller';
import { READINESS, type ReadinessProbe } from './readiness';

/** `/health/live` and `/health/ready` (database reachable, ingest committing, MQTT connected). */
@Module({
  imports: [DatabaseModule, MqttModule, IngestModule],
  controllers: [HealthController],
  providers: [
    {
      provide: READINESS,
      inject: [DATABASE, MqttRepository, IngestService],
      useFactory: (db: Database, mqtt: MqttRepository, ingest: IngestService): ReadinessProbe => ({
        check: async () => ({ database: await db.ping(), ingest: ingest.healthy, mqtt: mqtt.isConnected }),
      }),
    },
  ],
})
export class HealthModule {}
