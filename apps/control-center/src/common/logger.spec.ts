import { Writable } from 'node:stream';
import { createLogger } from './logger';

describe('createLogger', () => {
  it('never writes the refresh cookie, bearer tokens or passwords', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const real = createLogger('info', 'test', sink);
    real.info(
      {
        req: { headers: { authorization: 'Bearer eyJ.secret', cookie: 'vigil_refresh=abc' } },
        res: { headers: { 'set-cookie': 'vigil_refresh=the-token; HttpOnly' } },
        password: 'hunter2-hunter2',
      },
      'request completed',
    );
    const out = lines.join('');
    expect(out).toContain('request completed');
    for (const secret of ['eyJ.secret', 'vigil_refresh=abc', 'the-token', 'hunter2']) expect(out).not.toContain(secret);
  });
});
