import type { ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import type { DecoderExit, DecoderHandle, SpawnDecoder } from './decoder-process.types';

/**
 * Runs one ffmpeg decoder through fluent-ffmpeg. This is the only file that touches fluent-ffmpeg (archived upstream
 * in May 2025): swapping it for `spawn('ffmpeg', [...inputOptions, '-i', input, ...outputOptions, 'pipe:1'])` changes
 * nothing else.
 */
export const spawnFfmpegDecoder: SpawnDecoder = (spec, events) => {
  let proc: ChildProcess | undefined;
  let killRequested = false;
  let exit: DecoderExit | null = null;
  let stdoutClosed = false;
  let reported = false;

  // onExit only once both the process is gone and its stdout is drained, so the last frames are never lost.
  const maybeReport = (): void => {
    if (reported || exit === null || !stdoutClosed) return;
    reported = true;
    events.onExit(exit);
  };

  // No 'close' event and no auto-destroy: fluent-ffmpeg turns the sink's 'close' into a kill and an
  // "Output stream closed" error 20 ms later, which would hide ffmpeg's real exit status.
  // A write not called back yet holds ffmpeg's output: the pipe fills and ffmpeg blocks, decoding nothing.
  let held: (() => void) | null = null;
  const release = () => {
    const callback = held;
    held = null;
    callback?.();
  };
  const sink = new Writable({
    emitClose: false,
    autoDestroy: false,
    write(chunk: Buffer, _encoding, callback) {
      if (events.onData(chunk) === false) held = () => callback();
      else callback();
    },
  });

  const command = ffmpeg({ stdoutLines: 20 }).input(spec.input);
  // More than one argument disables fluent-ffmpeg's splitting of "-opt value" strings on spaces.
  if (spec.inputOptions.length > 0) command.inputOptions(...(spec.inputOptions as [string, ...string[]]));

  const settle = (err: Error | null): void => {
    if (proc === undefined || proc.pid === undefined) {
      // Never started: no stdout will ever close.
      stdoutClosed = true;
      exit = { code: null, signal: null, spawnError: err?.message ?? 'ffmpeg did not start' };
    } else {
      exit = { code: proc.exitCode, signal: proc.signalCode };
    }
    maybeReport();
  };

  command
    .on('start', () => {
      proc = (command as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
      const stdout = proc?.stdout;
      if (stdout) {
        stdout.once('close', () => {
          stdoutClosed = true;
          maybeReport();
        });
      } else {
        stdoutClosed = true;
      }
      if (killRequested) command.kill('SIGKILL');
    })
    .on('stderr', (line: string) => events.onStderrLine(line))
    .on('error', (err: Error) => settle(err))
    .on('end', () => settle(null));

  command.output(sink, { end: true });
  if (spec.outputOptions.length > 0) command.outputOptions(...(spec.outputOptions as [string, ...string[]]));
  command.run();

  const handle: DecoderHandle = {
    kill() {
      killRequested = true;
      if (proc !== undefined && proc.exitCode === null && proc.signalCode === null) command.kill('SIGKILL');
      // Let the pipe drain so stdout closes and the exit is reported.
      release();
    },
    resume: release,
  };
  return handle;
};
