/**
 * The only surface the capture uses from the process runner (ffmpeg-process.ts). Keeping it this small is what lets
 * fluent-ffmpeg (archived upstream) be replaced by a direct `spawn('ffmpeg', args)` in that one file.
 */

/** ffmpeg invocation: `ffmpeg <inputOptions> -i <input> <outputOptions> pipe:1`. */
export interface DecoderSpec {
  inputOptions: string[];
  input: string;
  outputOptions: string[];
}

export interface DecoderExit {
  /** Exit code, null when killed by a signal or when ffmpeg could not be started. */
  code: number | null;
  signal: string | null;
  /** Set when the process could not be started at all (binary missing, spawn error). */
  spawnError?: string;
}

export interface DecoderEvents {
  /**
   * A chunk of stdout (raw frames, boundaries anywhere). Returning false holds further output (ffmpeg blocks on
   * its pipe) until the handle's `resume()`.
   */
  onData(chunk: Buffer): boolean | void;
  /** One line of stderr, unredacted: the caller redacts before it goes anywhere. */
  onStderrLine(line: string): void;
  /** Called exactly once, after stdout has been fully delivered. */
  onExit(exit: DecoderExit): void;
}

export interface DecoderHandle {
  /** SIGKILL the process (also when called before it has actually started); idempotent. Releases held output. */
  kill(): void;
  /** Lets output flow again after onData returned false; a no-op otherwise. */
  resume(): void;
}

export type SpawnDecoder = (spec: DecoderSpec, events: DecoderEvents) => DecoderHandle;
