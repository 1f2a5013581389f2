import { buildDecoderSpec, connectUrl, describeSource, sourceSecrets, videoFilter } from './ffmpeg-args';

const value = (args: string[], flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
};

describe('buildDecoderSpec', () => {
  it('pulls RTSP over TCP by default, UDP when configured, with a socket timeout', () => {
    const tcp = buildDecoderSpec({ kind: 'rtsp', url: 'rtsp://cam/s' }, { width: 416, height: 416, fps: 10 });
    expect(value(tcp.inputOptions, '-rtsp_transport')).toBe('tcp');
    expect(value(tcp.inputOptions, '-timeout')).toBe('10000000');
    const udp = buildDecoderSpec(
      { kind: 'rtsp', url: 'rtsp://cam/s', transport: 'udp' },
      { width: 416, height: 416 },
      { rtspSocketTimeoutMs: 2_500 },
    );
    expect(value(udp.inputOptions, '-rtsp_transport')).toBe('udp');
    expect(value(udp.inputOptions, '-timeout')).toBe('2500000');
  });

  it('decodes video only to packed BGR rawvideo at the detection rate', () => {
    const spec = buildDecoderSpec(
      { kind: 'file', path: '/clip.avi' },
      { width: 320, height: 240, fps: 10, fit: 'exact' },
    );
    expect(spec.input).toBe('/clip.avi');
    expect(value(spec.outputOptions, '-map')).toBe('0:v:0');
    expect(value(spec.outputOptions, '-pix_fmt')).toBe('bgr24');
    expect(value(spec.outputOptions, '-f')).toBe('rawvideo');
    expect(value(spec.outputOptions, '-vf')).toBe('fps=10,scale=w=320:h=240:flags=bilinear');
  });

  it('paces and loops a file only when asked', () => {
    const plain = buildDecoderSpec({ kind: 'file', path: '/c.avi' }, { width: 64, height: 64 });
    expect(plain.inputOptions).not.toContain('-re');
    expect(plain.inputOptions).not.toContain('-stream_loop');
    const live = buildDecoderSpec(
      { kind: 'file', path: '/c.avi', realtime: true, loop: true },
      { width: 64, height: 64 },
    );
    expect(live.inputOptions).toContain('-re');
    expect(value(live.inputOptions, '-stream_loop')).toBe('-1');
  });

  it('rejects impossible sizes and rates', () => {
    expect(() => buildDecoderSpec({ kind: 'file', path: '/c' }, { width: 0, height: 10 })).toThrow('capture size');
    expect(() => buildDecoderSpec({ kind: 'file', path: '/c' }, { width: 10.5, height: 10 })).toThrow('capture size');
    expect(() => buildDecoderSpec({ kind: 'file', path: '/c' }, { width: 10, height: 10, fps: 0 })).toThrow('fps');
  });
});

describe('videoFilter', () => {
  it('keeps the aspect ratio by default and stretches only in exact mode', () => {
    expect(videoFilter({ width: 416, height: 416 })).toBe(
      'scale=w=416:h=416:force_original_aspect_ratio=decrease:flags=bilinear',
    );
    expect(videoFilter({ width: 416, height: 416, fit: 'exact', fps: 5 })).toBe(
      'fps=5,scale=w=416:h=416:flags=bilinear',
    );
  });
});

describe('credentials', () => {
  const source = { kind: 'rtsp' as const, url: 'rtsp://10.0.0.5:554/sub', username: 'admin', password: 'p@ss:w/rd' };

  it('injects separate credentials into the connect URL, percent-encoded', () => {
    const url = new URL(connectUrl(source));
    expect(decodeURIComponent(url.username)).toBe('admin');
    expect(decodeURIComponent(url.password)).toBe('p@ss:w/rd');
    expect(url.host).toBe('10.0.0.5:554');
  });

  it('collects the secrets of separate and URL-embedded credentials', () => {
    expect(sourceSecrets(source)).toEqual(['admin', 'p@ss:w/rd']);
    expect(sourceSecrets({ kind: 'rtsp', url: 'rtsp://u1:pw%21@cam/s' })).toEqual(['u1', 'pw!']);
    expect(sourceSecrets({ kind: 'file', path: '/x' })).toEqual([]);
  });

  it('describes a source without its credentials', () => {
    expect(describeSource({ kind: 'rtsp', url: 'rtsp://u1:pw@cam/s', transport: 'udp' })).toBe(
      'rtsp://***@cam/s (udp)',
    );
  });
});
