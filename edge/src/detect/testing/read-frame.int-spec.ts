import path from 'node:path';

import { probeSize, readFrameAt, readFrames, resolveVideosDir } from './read-frame';

describe('read-frame (ffmpeg test helper)', () => {
  const clip = path.join(resolveVideosDir(), 'bgslibrary_video02.avi');

  it('decodes consecutive packed bgr24 frames at a time', async () => {
    const frames = await readFrames(clip, 10, 3);
    expect(frames).toHaveLength(3);
    for (const f of frames) expect(f).toMatchObject({ width: 320, height: 240, pixelFormat: 'bgr24' });
    expect(frames[0].data).toHaveLength(320 * 240 * 3);
    // Real, moving video: consecutive frames differ.
    expect(Buffer.compare(frames[0].data, frames[1].data)).not.toBe(0);
  });

  it('scales in ffmpeg when asked (as a capture set to the detection size would)', async () => {
    const [frame] = await readFrames(path.join(resolveVideosDir(), 'opencv_vtest.avi'), 10, 1, {
      width: 416,
      height: 312,
    });
    expect(frame).toMatchObject({ width: 416, height: 312 });
    expect(frame.data).toHaveLength(416 * 312 * 3);
  });

  it('reads one frame and probes the size', async () => {
    await expect(probeSize(clip)).resolves.toEqual({ width: 320, height: 240 });
    expect((await readFrameAt(path.join(resolveVideosDir(), 'opencv_vtest.avi'), 10)).data).toHaveLength(768 * 576 * 3);
  });

  it('fails with ffprobe/ffmpeg stderr for a missing clip', async () => {
    await expect(readFrameAt('/nonexistent/clip.avi', 1)).rejects.toThrow(/No such file or directory/);
  });
});
