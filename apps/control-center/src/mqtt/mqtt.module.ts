import { Module } from '@nestjs/common';
import type { Logger } from '../common/logger';
import { APP_CONFIG, LOGGER } from '../common/tokens';
import type { AppConfig } from '../config/app-config';
import type { EmbeddedBroker } from './embedded-broker';
import { detectProtocolVersion, MqttRepository } from './mqtt.repository';

/** The embedded broker when no MQTT_URL is set (null otherwise). */
export const EMBEDDED_BROKER = Symbol('EMBEDDED_BROKER');

/**
 * The centre's MQTT session (not started here: the feature that consumes it starts and stops it) and, without an
 * external broker, the embedded one, up before the session is built and closed by its own shutdown hook.
 */
@Module({
  providers: [
    {
      provide: EMBEDDED_BROKER,
      inject: [APP_CONFIG, LOGGER],
      // Loaded only when used: Aedes is an ES module, and a centre on Mosquitto (or a test under jest) never needs it.
      useFactory: async (config: AppConfig, logger: Logger): Promise<EmbeddedBroker | null> => {
        if (config.mqtt.url) return null;
        const { EmbeddedBroker } = await import('./embedded-broker');
        const { host, port } = config.mqtt.embedded;
        return EmbeddedBroker.start(host, port, logger.child({ c: 'broker' }));
      },
    },
    {
      provide: MqttRepository,
      inject: [APP_CONFIG, LOGGER, EMBEDDED_BROKER],
      useFactory: async (config: AppConfig, logger: Logger, broker: EmbeddedBroker | null) => {
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
  ],
  exports: [MqttRepository],
})
export class MqttModule {}
