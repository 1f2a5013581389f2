import { spawn } from 'node:child_process';

/** One frame of the clip at `atSec`, scaled to width x height, as a baseline JPEG (what a camera's snapshot URI serves). */
export function grabJpeg(
  clip: string,
  atSec: number,
  width: number,
  height: number,
  ffmpegPath = 'ffmpeg',
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const ffmpeg = spawn(
      ffmpegPath,
      [
        '-nostdin',
        '-v',
        'error',
        '-ss',
        atSec.toFixed(3),
        '-i',
        clip,
        '-frames:v',
        '1',
        '-vf',
        `scale=${width}:${height}`,
        '-f',
        'mjpeg',
        '-q:v',
        '3',
        'pipe:1',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    let stderr = '';
    ffmpeg.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    ffmpeg.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    ffmpeg.once('error', reject);
    ffmpeg.once('close', (code) => {
      const jpeg = Buffer.concat(out);
      if (code === 0 && jpeg.length > 0) resolve(jpeg);
      else reject(new Error(`snapshot failed (ffmpeg exit ${code}): ${stderr.trim()}`));
    });
  });
}
