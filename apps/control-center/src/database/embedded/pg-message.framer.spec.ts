import fc from 'fast-check';
import {
  CANCEL_REQUEST,
  innerBoundaries,
  padForPglite,
  PgMessageFramer,
  SSL_REQUEST,
  type FramerOutput,
} from './pg-message.framer';

function startup(): Buffer {
  const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
  const b = Buffer.alloc(8);
  b.writeInt32BE(8 + params.length, 0);
  b.writeInt32BE(196608, 4);
  return Buffer.concat([b, params]);
}

function request(code: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32BE(8, 0);
  b.writeInt32BE(code, 4);
  return b;
}

function msg(type: string, body: Buffer | string = ''): Buffer {
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  const head = Buffer.alloc(5);
  head.write(type, 0);
  head.writeInt32BE(payload.length + 4, 1);
  return Buffer.concat([head, payload]);
}

/** Concatenated bytes of every 'messages' output. */
function delivered(outputs: FramerOutput[]): Buffer {
  return Buffer.concat(outputs.flatMap((o) => (o.type === 'messages' ? [o.bytes] : [])));
}

/** Feeds `bytes` in chunks of `size` and collects the outputs. */
function feed(framer: PgMessageFramer, bytes: Buffer, size: number): FramerOutput[] {
  const out: FramerOutput[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...framer.push(bytes.subarray(i, i + size)));
  return out;
}

describe('PgMessageFramer', () => {
  it('passes the startup message through once it is complete', () => {
    const f = new PgMessageFramer();
    const s = startup();
    expect(f.push(s.subarray(0, 5))).toEqual([]);
    expect(f.push(s.subarray(5))).toEqual([{ type: 'messages', bytes: s }]);
  });

  it('reassembles a query larger than a TCP chunk before handing it on', () => {
    const f = new PgMessageFramer();
    f.push(startup());
    const big = msg('Q', `SELECT '${'x'.repeat(200_000)}'\0`);
    const out = feed(f, big, 65_536);
    expect(out).toHaveLength(1);
    expect(delivered(out).equals(big)).toBe(true);
  });

  it('holds an extended-protocol group until its Sync arrives, then delivers it whole and in order', () => {
    const f = new PgMessageFramer();
    f.push(startup());
    const group = [msg('P', 'parse'), msg('B', 'x'.repeat(100_000)), msg('D', 'P\0'), msg('E', '\0\0\0\0\0'), msg('S')];
    const bytes = Buffer.concat(group);
    const syncAt = bytes.length - 5;
    expect(delivered(feed(f, bytes.subarray(0, syncAt), 7000)).length).toBe(0);
    const out = f.push(bytes.subarray(syncAt));
    expect(delivered(out).equals(bytes)).toBe(true);
  });

  it('delivers what is complete and keeps the incomplete tail for later', () => {
    const f = new PgMessageFramer();
    f.push(startup());
    const q1 = msg('Q', 'SELECT 1\0');
    const q2 = msg('Q', 'SELECT 2\0');
    const both = Buffer.concat([q1, q2]);
    expect(delivered(f.push(both.subarray(0, q1.length + 3))).equals(q1)).toBe(true);
    expect(delivered(f.push(both.subarray(q1.length + 3))).equals(q2)).toBe(true);
  });

  it('answers SSL probes itself and never forwards them', () => {
    const f = new PgMessageFramer();
    const s = startup();
    expect(f.push(Buffer.concat([request(SSL_REQUEST), s]))).toEqual([
      { type: 'refuse-encryption' },
      { type: 'messages', bytes: s },
    ]);
  });

  it('closes on Terminate without forwarding it (the single backend outlives its clients)', () => {
    const f = new PgMessageFramer();
    f.push(startup());
    const q = msg('Q', 'SELECT 1\0');
    expect(f.push(Buffer.concat([q, msg('X')]))).toEqual([{ type: 'messages', bytes: q }, { type: 'close' }]);
    expect(f.push(msg('Q', 'SELECT 2\0'))).toEqual([]);
  });

  it('closes a cancel request connection', () => {
    expect(new PgMessageFramer().push(Buffer.concat([request(CANCEL_REQUEST), Buffer.alloc(8)]))).toEqual([
      { type: 'close' },
    ]);
  });

  it('rejects a nonsensical length instead of buffering for ever', () => {
    const f = new PgMessageFramer();
    f.push(startup());
    const bad = Buffer.from([0x51, 0x7f, 0xff, 0xff, 0xff]);
    expect(f.push(bad)).toEqual([{ type: 'error', reason: expect.stringMatching(/bad message length/) }]);
  });
});

describe('padForPglite (PGlite drops what follows a boundary on a multiple of its 8 KiB receive buffer)', () => {
  const FLUSH = msg('H');

  it('moves a Sync that would start at byte 16384 with one leading Flush, and leaves other input alone', () => {
    const bind = msg('B', Buffer.alloc(16384 - 5));
    const input = Buffer.concat([bind, msg('E', Buffer.from([0, 0, 0, 0, 0])), msg('S')]);
    expect(innerBoundaries(input)).toContain(16384);
    const padded = padForPglite(input);
    expect(padded.subarray(0, 5)).toEqual(FLUSH);
    expect(padded.subarray(5)).toEqual(input);
    expect(innerBoundaries(padded).filter((b) => b % 8192 === 0)).toEqual([]);
    const harmless = Buffer.concat([msg('B', Buffer.alloc(100)), msg('S')]);
    expect(padForPglite(harmless)).toBe(harmless);
  });

  it('never leaves an inner boundary on a multiple of the buffer, and adds only Flush messages in front', () => {
    const messages = fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(messages, (sizes) => {
        const input = Buffer.concat(sizes.map((n) => msg('D', Buffer.alloc(n, 1))));
        const padded = padForPglite(input, 32);
        expect(innerBoundaries(padded).filter((b) => b % 32 === 0)).toEqual([]);
        const extra = padded.length - input.length;
        expect(extra % 5).toBe(0);
        expect(padded.subarray(extra)).toEqual(input);
        for (let i = 0; i < extra; i += 5) expect(padded.subarray(i, i + 5)).toEqual(FLUSH);
      }),
      { numRuns: 500 },
    );
  });

  it('pads what the framer emits', () => {
    const f = new PgMessageFramer();
    f.push(startup());
    const input = Buffer.concat([msg('P', Buffer.alloc(8192 - 5)), msg('S')]);
    const out = delivered(f.push(input));
    expect(out.subarray(0, 5)).toEqual(FLUSH);
    expect(out.subarray(5)).toEqual(input);
  });
});
