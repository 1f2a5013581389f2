import { redactSecrets } from '@vigil/common';
import { MAX_REASON_LENGTH, OutputSizeParser, describeExit, telltaleLine } from './ffmpeg-stderr.parser';

// Real ffmpeg 5.1 stderr, captured from runs against the shared clips and a GStreamer RTSP server.
const HEADER = [
  "Input #0, rtsp, from 'rtsp://bob:s3cr%40t@127.0.0.1:39697/cam':",
  '  Metadata:',
  '    title           : Session streamed with GStreamer',
  '  Stream #0:0: Video: h264 (Constrained Baseline), yuv420p(tv, smpte170m, progressive), 768x576 [SAR 1:1 DAR 4:3], 25 fps, 25 tbr, 90k tbn',
  'Stream mapping:',
  '  Stream #0:0 -> #0:0 (h264 (native) -> rawvideo (native))',
  "Output #0, rawvideo, to 'pipe:1':",
  '  Metadata:',
  '    encoder         : Lavf59.27.100',
  '  Stream #0:0: Video: rawvideo (BGR[24] / 0x18524742), bgr24(pc, gbr/smpte170m/smpte170m, progressive), 416x312 [SAR 1:1 DAR 4:3], q=2-31, 31150 kb/s, 10 fps, 10 tbn',
];

describe('OutputSizeParser', () => {
  it('reads the delivered size and rate from the output stream line, not the input one', () => {
    const parser = new OutputSizeParser();
    const results = HEADER.map((l) => parser.feed(l)).filter((r) => r !== null);
    expect(results).toEqual([{ width: 416, height: 312, fps: 10 }]);
  });

  it('handles the line without SAR and with a fractional rate', () => {
    const parser = new OutputSizeParser();
    parser.feed("Output #0, rawvideo, to 'pipe:1':");
    expect(
      parser.feed(
        '  Stream #0:0: Video: rawvideo (BGR[24] / 0x18524742), bgr24(pc, progressive), 320x240, q=2-31, 18432 kb/s, 12.5 fps, 12.5 tbn',
      ),
    ).toEqual({ width: 320, height: 240, fps: 12.5 });
  });
});

describe('describeExit', () => {
  const secrets = ['bob', 's3cr@t'];
  const redacted = (lines: string[]) => lines.map((l) => redactSecrets(l, secrets));

  it('names a refused connection and quotes the redacted ffmpeg line', () => {
    const tail = redacted([
      '[tcp @ 0x55e552481880] Connection to tcp://127.0.0.1:1?timeout=3000000 failed: Connection refused',
      'rtsp://bob:s3cr%40t@127.0.0.1:1/stream: Connection refused',
    ]);
    const { cause, reason } = describeExit({ code: 1, signal: null }, tail);
    expect(cause).toBe('connection-refused');
    expect(reason).toBe(
      'connection refused (ffmpeg exited with code 1: rtsp://***@127.0.0.1:1/stream: Connection refused)',
    );
    expect(reason).not.toMatch(/bob|s3cr/);
  });

  it('classifies 404, 401, a missing file, a bad file and an unreachable host', () => {
    const cases: Array<[string[], string]> = [
      [
        ['[rtsp @ 0x1] method DESCRIBE failed: 404 Not Found', 'rtsp://***@h/x: Server returned 404 Not Found'],
        'not-found',
      ],
      [
        [
          '[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized',
          'rtsp://***@h/x: Server returned 401 Unauthorized (authorization failed)',
        ],
        'unauthorized',
      ],
      [['/nope/x.avi: No such file or directory'], 'not-found'],
      [['/tmp/junk.avi: Invalid data found when processing input'], 'bad-input'],
      [['[tcp @ 0x1] Connection to tcp://10.255.0.1:554 failed: No route to host'], 'unreachable'],
      [['[tcp @ 0x1] Connection to tcp://10.255.0.1:554 failed: Connection timed out'], 'timeout'],
    ];
    for (const [tail, cause] of cases) expect(describeExit({ code: 1, signal: null }, tail).cause).toBe(cause);
  });

  it('reports a clean exit of a live stream as ended, a signal as such, and an unknown error verbatim', () => {
    expect(describeExit({ code: 0, signal: null }, ['frame=  100 fps= 10 q=-0.0 size=...']).cause).toBe('stream-ended');
    expect(describeExit({ code: null, signal: 'SIGSEGV' }, []).reason).toBe('ffmpeg was killed by SIGSEGV');
    const odd = describeExit({ code: 1, signal: null }, ['Error while opening encoder', 'Conversion failed!']);
    expect(odd).toEqual({ cause: 'ffmpeg-error', reason: 'ffmpeg exited with code 1: Error while opening encoder' });
  });

  it('reports a spawn failure', () => {
    expect(describeExit({ code: null, signal: null, spawnError: 'spawn ffmpeg ENOENT' }, [])).toEqual({
      cause: 'spawn-failed',
      reason: 'ffmpeg could not be started: spawn ffmpeg ENOENT',
    });
  });

  it('keeps the reason within the contract limit', () => {
    const { reason } = describeExit({ code: 1, signal: null }, ['x'.repeat(2_000)]);
    expect(reason.length).toBe(MAX_REASON_LENGTH);
  });
});

describe('telltaleLine', () => {
  it('finds nothing telling in a normal header and summary (a stream that simply ended)', () => {
    expect(
      telltaleLine([...HEADER, 'frame=   22 fps= 16 q=-0.0 Lsize=    4950kB', 'video:4950kB audio:0kB']),
    ).toBeNull();
    expect(describeExit({ code: 0, signal: null }, HEADER).reason).toBe('stream ended (ffmpeg exited with code 0)');
  });

  it('skips progress and summary noise', () => {
    expect(telltaleLine(['real problem here', 'frame=   3 fps=0.0 q=-0.0', 'video:1141kB audio:0kB', ''])).toBe(
      'real problem here',
    );
    expect(telltaleLine([])).toBeNull();
  });
});
