import { redactUrl, urlCredentials } from '@vigil/common';
import type { CaptureOutput, CaptureSource } from './capture.types';
import type { DecoderSpec } from './decoder-process.types';

export interface DecoderTuning {
  /** RTSP socket I/O timeout: ffmpeg gives up by itself when the server goes silent (our watchdog is the backstop). */
  rtspSocketTimeoutMs: number;
}

export const DEFAULT_TUNING: DecoderTuning = { rtspSocketTimeoutMs: 10_000 };

/** The URL ffmpeg connects to: separate credentials are injected here, percent-encoded, and nowhere else. */
export function connectUrl(source: CaptureSource): string {
  if (source.kind === 'file') return source.path;
  if (source.username === undefined && source.password === undefined) return source.url;
  const url = new URL(source.url);
  url.username = source.username ?? '';
  url.password = source.password ?? '';
  return url.toString();
}

/** Every credential the source may echo, for redaction. */
export function sourceSecrets(source: CaptureSource): string[] {
  if (source.kind === 'file') return [];
  const fromUrl = urlCredentials(source.url);
  return [source.username, source.password, fromUrl.username, fromUrl.password].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
}

/** Safe-to-log description of the source. */
export function describeSource(source: CaptureSource): string {
  if (source.kind === 'file') return source.path;
  return `${redactUrl(source.url)} (${source.transport ?? 'tcp'})`;
}

/** ffmpeg filter chain: rate first (fewer frames to scale), then size. */
export function videoFilter(output: CaptureOutput): string {
  const { width, height } = output;
  const filters: string[] = [];
  if (output.fps !== undefined) filters.push(`fps=${output.fps}`);
  if ((output.fit ?? 'keep-aspect') === 'exact') {
    filters.push(`scale=w=${width}:h=${height}:flags=bilinear`);
  } else {
    filters.push(`scale=w=${width}:h=${height}:force_original_aspect_ratio=decrease:flags=bilinear`);
  }
  return filters.join(',');
}

export function validateOutput(output: CaptureOutput): void {
  const { width, height, fps } = output;
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < 2 ||
    height < 2 ||
    width > 8192 ||
    height > 8192
  ) {
    throw new Error(`capture size must be integers in 2..8192, got ${width}x${height}`);
  }
  if (fps !== undefined && !(Number.isFinite(fps) && fps > 0 && fps <= 240)) {
    throw new Error(`capture fps must be in (0, 240], got ${fps}`);
  }
}

/** Builds the decoder invocation: raw packed BGR frames on stdout, nothing but video. */
export function buildDecoderSpec(
  source: CaptureSource,
  output: CaptureOutput,
  tuning: DecoderTuning = DEFAULT_TUNING,
): DecoderSpec {
  validateOutput(output);
  // Info level is needed: the keep-aspect output size is read from ffmpeg's "Output #0" stream line.
  const inputOptions = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info'];
  if (source.kind === 'rtsp') {
    inputOptions.push(
      '-rtsp_transport',
      source.transport ?? 'tcp',
      '-timeout',
      String(Math.round(tuning.rtspSocketTimeoutMs * 1000)),
      // Cameras send broken packets and odd timestamps; wall-clock stamps keep the fps filter sane across them.
      '-fflags',
      '+genpts+discardcorrupt',
      '-use_wallclock_as_timestamps',
      '1',
    );
  } else {
    if (source.realtime) inputOptions.push('-re');
    if (source.loop) inputOptions.push('-stream_loop', '-1');
  }
  const outputOptions = ['-map', '0:v:0', '-vf', videoFilter(output), '-pix_fmt', 'bgr24', '-f', 'rawvideo'];
  return { inputOptions, input: connectUrl(source), outputOptions };
}
