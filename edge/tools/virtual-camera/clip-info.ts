import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** What the virtual camera needs to know about the clip it serves. */
export interface ClipInfo {
  width: number;
  height: number;
  /** Frame rate as a rational, e.g. { num: 25, den: 2 } for 12.5 fps. */
  fps: { num: number; den: number };
  durationSec: number;
}

interface FfprobeOutput {
  streams?: { width?: number; height?: number; avg_frame_rate?: string; r_frame_rate?: string }[];
  format?: { duration?: string };
}

function parseRate(rate: string | undefined): { num: number; den: number } | null {
  const match = /^(\d+)\/(\d+)$/.exec(rate ?? '');
  if (!match) return null;
  const num = Number(match[1]);
  const den = Number(match[2]);
  return num > 0 && den > 0 ? { num, den } : null;
}

/** Reads size, frame rate and duration of the clip's first video stream with ffprobe. */
export async function readClipInfo(clip: string, ffprobePath = 'ffprobe'): Promise<ClipInfo> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(ffprobePath, [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=width,height,avg_frame_rate,r_frame_rate:format=duration',
      '-of',
      'json',
      clip,
    ]));
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new Error(`cannot read clip ${clip}: ${detail}`);
  }
  const parsed = JSON.parse(stdout) as FfprobeOutput;
  const stream = parsed.streams?.[0];
  if (!stream?.width || !stream.height) throw new Error(`clip ${clip} has no video stream`);
  const fps = parseRate(stream.avg_frame_rate) ?? parseRate(stream.r_frame_rate);
  if (!fps) throw new Error(`clip ${clip} has no usable frame rate`);
  const durationSec = Number(parsed.format?.duration);
  if (!(durationSec > 0)) throw new Error(`clip ${clip} has no usable duration`);
  return { width: stream.width, height: stream.height, fps, durationSec };
}
