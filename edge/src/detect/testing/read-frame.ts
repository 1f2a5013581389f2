import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

import type { RawFrame } from '../detector.types';
import { findRepoRoot } from '../model-manifest.loader';

const execFileAsync = promisify(execFile);

/** Env var naming the shared clips folder (relative values resolve against the repository root). */
export const VIDEOS_DIR_ENV = 'VIGIL_VIDEOS_DIR';

export function resolveVideosDir(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env[VIDEOS_DIR_ENV];
  return path.resolve(findRepoRoot(), configured && configured.length > 0 ? configured : '../shared/assets/videos');
}

export async function probeSize(clip: string): Promise<{ width: number; height: number }> {
  const { stdout } = await execFileAsync('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=width,height',
    '-of',
    'csv=p=0',
    clip,
  ]);
  const [width, height] = stdout.trim().split(',').map(Number);
  if (!(width > 0 && height > 0)) throw new Error(`ffprobe gave no video size for ${clip}: "${stdout.trim()}"`);
  return { width, height };
}

/**
 * Decodes `count` consecutive frames from `atSeconds` as packed bgr24 (what the capture module feeds the detector),
 * at the clip's size or scaled by ffmpeg. For tests and benchmarks only: the live capture path is edge/src/capture.
 */
export async function readFrames(
  clip: string,
  atSeconds: number,
  count: number,
  scaleTo?: { width: number; height: number },
): Promise<RawFrame[]> {
  const { width, height } = scaleTo ?? (await probeSize(clip));
  const args = ['-v', 'error', '-ss', String(atSeconds), '-i', clip, '-frames:v', String(count)];
  // Scaled in ffmpeg (bilinear, like a capture configured for the detection size).
  if (scaleTo) args.push('-vf', `scale=${width}:${height}:flags=bilinear`);
  const data = await new Promise<Buffer>((resolve, reject) => {
    const ff = spawn('ffmpeg', [...args, '-f', 'rawvideo', '-pix_fmt', 'bgr24', '-'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let stderr = '';
    ff.stdout.on('data', (c: Buffer) => chunks.push(c));
    ff.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    ff.on('error', reject);
    ff.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`ffmpeg exited ${code}: ${stderr.trim()}`)),
    );
  });
  const size = width * height * 3;
  if (data.length === 0 || data.length % size !== 0) {
    throw new Error(`ffmpeg gave ${data.length} bytes from ${clip} at ${atSeconds}s, not a multiple of ${size}`);
  }
  const frames: RawFrame[] = [];
  for (let off = 0; off < data.length; off += size) {
    frames.push({ data: data.subarray(off, off + size), width, height, pixelFormat: 'bgr24' });
  }
  return frames;
}

/** One frame of a clip at a given time. */
export async function readFrameAt(clip: string, atSeconds: number): Promise<RawFrame> {
  const [frame] = await readFrames(clip, atSeconds, 1);
  return frame;
}
