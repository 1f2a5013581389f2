import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { MqttRepository } from '../mqtt/mqtt.repository';
import type { IngestService } from './ingest.service';

/**
 * Feeds the MQTT session into ingest for the life of the application. Bootstrap runs once every provider exists,
 * so the database (migrated) and the broker are up before the first message arrives. Shutdown, before anything
 * closes: the session stops first (no new messages; those not yet acknowledged stay with the broker), then ingest
 * commits what it holds; only then do the database and the broker close (their own shutdown hooks, a later phase).
 */
export class IngestRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly ingest: Pick<IngestService, 'start' | 'stop' | 'accept'>,
    private readonly mqtt: Pick<MqttRepository, 'start' | 'stop'>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.ingest.start();
    await this.mqtt.start((msg) => this.ingest.accept(msg));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.mqtt.stop();
    await this.ingest.stop();
  }
}
