import pino from 'pino';
import { Writable } from 'node:stream';
import { freePort, waitFor } from '../../../../test/support/services';
import { MqttRepository } from './mqtt.repository';

describe('MqttRepository logging', () => {
  it('names its broker without the credentials in the URL', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const port = await freePort();
    const repo = new MqttRepository(
      {
        url: `mqtt://vigil-centre:s3cret@127.0.0.1:${port}`,
        clientId: 'c',
        shareGroup: null,
        protocolVersion: 4,
        persistentSession: false,
      },
      pino({ level: 'debug' }, sink),
    );
    await repo.start(() => true);
    // Nothing listens there: the client logs its connection error, with the broker it was bound to.
    await waitFor('a log line', () => lines.length > 0, 5000);
    await repo.stop();
    const logged = lines.join('');
    expect(logged).toContain(`"broker":"mqtt://***@127.0.0.1:${port}"`);
    expect(logged).not.toContain('s3cret');
  });
});
