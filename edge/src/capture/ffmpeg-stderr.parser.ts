import { clipText } from '../common/clip-text';
import type { CaptureCause } from './capture.types';
import type { DecoderExit } from './decoder-process.types';

/**
 * Reads the delivered frame size (and rate) from ffmpeg's output description:
 *   Output #0, rawvideo, to 'pipe:1':
 *     Stream #0:0: Video: rawvideo (BGR[24] / 0x18524742), bgr24(pc, progressive), 416x312, q=2-31, ...
 * Input stream lines come earlier and are skipped.
 */
export class OutputSizeParser {
  private inOutput = false;

  feed(line: string): { width: number; height: number; fps: number | null } | null {
    if (/^Output #0\b/.test(line)) {
      this.inOutput = true;
      return null;
    }
    if (!this.inOutput || !/Stream #0:\d+.*: Video: rawvideo/.test(line)) return null;
    const m = /, (\d{1,5})x(\d{1,5})[,\s[]/.exec(line);
    if (!m) return null;
    this.inOutput = false;
    const rate = /, (\d+(?:\.\d+)?) fps\b/.exec(line);
    return { width: Number(m[1]), height: Number(m[2]), fps: rate ? Number(rate[1]) : null };
  }
}

interface Pattern {
  re: RegExp;
  cause: CaptureCause;
  human: string;
}

// Order matters: the first pattern that matches any line wins (an auth failure also ends in "Invalid data").
const PATTERNS: Pattern[] = [
  {
    re: /\b(401 Unauthorized|403 Forbidden|authorization failed)/i,
    cause: 'unauthorized',
    human: 'authentication failed',
  },
  { re: /Connection refused/i, cause: 'connection-refused', human: 'connection refused' },
  { re: /404 Not Found/i, cause: 'not-found', human: 'stream not found (404)' },
  { re: /No such file or directory/i, cause: 'not-found', human: 'file not found' },
  {
    re: /No route to host|Network is unreachable|Host is unreachable|Name or service not known|Temporary failure in name resolution|Cannot assign requested address/i,
    cause: 'unreachable',
    human: 'host unreachable',
  },
  { re: /timed out|Connection timeout/i, cause: 'timeout', human: 'connection timed out' },
  {
    re: /Invalid data found when processing input|matches no streams|does not contain any stream|could not find codec parameters/i,
    cause: 'bad-input',
    human: 'input is not a readable video',
  },
];

// Stream descriptions, progress and summary lines say nothing about why ffmpeg stopped.
const NOISE =
  /^\s*$|^\s*(frame=|video:|Exiting normally|Conversion failed!|Metadata:|Input #|Output #|Stream #|Stream mapping:|Duration:|Press \[q\])|^\s+\w+\s+: /;

/** The most telling line of a stderr tail: the last one naming a known problem, else the last non-noise line. */
export function telltaleLine(lines: readonly string[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    if (PATTERNS.some((p) => p.re.test(lines[i]))) return lines[i].trim();
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!NOISE.test(lines[i])) return lines[i].trim();
  }
  return null;
}

export const MAX_REASON_LENGTH = 500;

function clip(text: string): string {
  return clipText(text, MAX_REASON_LENGTH);
}

/**
 * Turns a decoder exit and its (already redacted) stderr tail into a cause and a human reason, e.g.
 * "connection refused (ffmpeg exited with code 1: rtsp://***@10.0.0.5/stream: Connection refused)".
 */
export function describeExit(
  exit: DecoderExit,
  redactedTail: readonly string[],
): { cause: CaptureCause; reason: string } {
  if (exit.spawnError !== undefined) {
    return { cause: 'spawn-failed', reason: clip(`ffmpeg could not be started: ${exit.spawnError}`) };
  }
  const how = exit.signal !== null ? `ffmpeg was killed by ${exit.signal}` : `ffmpeg exited with code ${exit.code}`;
  const line = telltaleLine(redactedTail);
  const detail = line === null ? how : `${how}: ${line}`;
  const pattern = PATTERNS.find((p) => redactedTail.some((l) => p.re.test(l)));
  if (pattern) return { cause: pattern.cause, reason: clip(`${pattern.human} (${detail})`) };
  if (exit.code === 0) return { cause: 'stream-ended', reason: clip(`stream ended (${detail})`) };
  return { cause: 'ffmpeg-error', reason: clip(detail) };
}
