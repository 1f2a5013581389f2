import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { CaptureStatus } from '../capture.types';
import type { FrameCapture } from '../frame-capture.service';

/** Resolves with the first status (already current, or future) matching `predicate`; rejects after `guardMs`. */
export function waitForStatus(
  capture: FrameCapture,
  predicate: (s: CaptureStatus) => boolean,
  guardMs = 20_000,
): Promise<CaptureStatus> {
  return new Promise((resolve, reject) => {
    const current = capture.status;
    if (current !== null && predicate(current)) return resolve(current);
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching capture status within ${guardMs} ms; last: ${JSON.stringify(capture.status)}`));
    }, guardMs);
    const off = capture.onStatus((s) => {
      if (!predicate(s)) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}

/** Records every status a capture emits. */
export function recordStatuses(capture: FrameCapture): CaptureStatus[] {
  const all: CaptureStatus[] = [];
  capture.onStatus((s) => all.push(s));
  return all;
}

/** A real pino logger at debug level writing into memory, to check what would reach the logs. */
export function memoryLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

/** ffmpeg processes that are children of this (jest worker) process; every test must leave none behind. */
export function childFfmpegPids(): number[] {
  try {
    const out = execFileSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg'], { encoding: 'utf8' });
    return out.split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
