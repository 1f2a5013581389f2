import type { OnApplicationShutdown } from '@nestjs/common';
import { Aedes } from 'aedes';
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { Logger } from '../common/logger';

/**
 * In-process MQTT broker (Aedes) so `npm start` needs nothing installed. Aedes speaks MQTT 3.1.1 only and has no
 * shared subscriptions; the centre's client adapts to both. Production uses Mosquitto (deploy/mosquitto). Closes
 * itself when the application shuts down (after ingest stopped its session).
 */
export class EmbeddedBroker implements OnApplicationShutdown {
  private constructor(
    private readonly aedes: Aedes,
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(host: string, port: number, logger: Logger): Promise<EmbeddedBroker> {
    const aedes = await Aedes.createBroker();
    const server = createServer((socket) => aedes.handle(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const url = `mqtt://${host}:${address.port}`;
    aedes.on('clientError', (client, err) =>
      logger.debug({ clientId: client.id, err: err.message }, 'mqtt client error'),
    );
    logger.info({ url }, 'embedded MQTT broker listening');
    return new EmbeddedBroker(aedes, server, url);
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
  }
}
