import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { resolveVideosDir } from '../../src/detect/testing/read-frame';
import { startVirtualCamera, type VirtualCamera } from './virtual-camera';

const execFileAsync = promisify(execFile);
const VTEST = path.join(resolveVideosDir(), 'opencv_vtest.avi'); // 768x576, 10 fps
const USER = 'operator';
const PASS = 'p@ss w0rd!';

jest.setTimeout(120_000);

interface Pull {
  ok: boolean;
  frames: number;
  stderr: string;
}

/** Pulls `frames` grey frames of width x height from an RTSP URL with ffmpeg and counts what arrived. */
async function pull(
  url: string,
  transport: 'tcp' | 'udp',
  frames: number,
  width: number,
  height: number,
): Promise<Pull> {
  const args = ['-nostdin', '-v', 'error', '-rtsp_transport', transport, '-i', url];
  args.push('-frames:v', String(frames), '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1');
  try {
    const { stdout, stderr } = await execFileAsync('ffmpeg', args, {
      encoding: 'buffer',
      maxBuffer: 64 << 20,
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    return { ok: true, frames: stdout.length / (width * height), stderr: stderr.toString() };
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    return { ok: false, frames: (e.stdout?.length ?? 0) / (width * height), stderr: e.stderr?.toString() ?? '' };
  }
}

function soap(body: string): string {
  return '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>' + `${body}</s:Body></s:Envelope>`;
}

async function post(url: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/soap+xml' }, body });
  return { status: res.status, text: await res.text() };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('virtual camera', () => {
  let cam: VirtualCamera;
  let pid: number;

  beforeAll(async () => {
    cam = await startVirtualCamera({ clip: VTEST, username: USER, password: PASS, discovery: false });
    pid = cam.rtspPid as number;
  });

  afterAll(async () => {
    await cam?.close();
  });

  it('describes two profiles: the clip size as main stream and a smaller sub-stream', () => {
    expect(cam.profiles.map((p) => [p.token, p.name, p.width, p.height, p.fps])).toEqual([
      ['Profile_1', 'MainStream', 768, 576, 10],
      ['Profile_2', 'SubStream', 320, 240, 10],
    ]);
    expect(cam.rtspUrl).toMatch(/^rtsp:\/\/127\.0\.0\.1:\d+\/stream1$/);
    expect(cam.onvifXAddr).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/onvif\/device_service$/);
  });

  it('serves the main stream over RTSP/TCP: ffmpeg decodes 10 frames of 768x576', async () => {
    const result = await pull(cam.rtspUrl, 'tcp', 10, 768, 576);
    expect(result).toEqual({ ok: true, frames: 10, stderr: '' });
  });

  it('serves the sub-stream over RTP/UDP at its profile size, and accepts credentials in the URL', async () => {
    const url = new URL(cam.subStreamUrl);
    url.username = encodeURIComponent(USER);
    url.password = encodeURIComponent(PASS);
    const result = await pull(url.toString(), 'udp', 10, 320, 240);
    expect([result.ok, result.frames]).toEqual([true, 10]);
  });

  it('serves a real JPEG snapshot per profile, at the profile size', async () => {
    for (const profile of cam.profiles) {
      const res = await fetch(profile.snapshotUrl);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/jpeg');
      const jpeg = Buffer.from(await res.arrayBuffer());
      expect([...jpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
      const meta = await sharp(jpeg).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', profile.width, profile.height]);
      // A picture, not a flat frame: the plaza has plenty of contrast.
      const stats = await sharp(jpeg).stats();
      expect(stats.channels[0].stdev).toBeGreaterThan(20);
    }
  });

  it('answers GetSystemDateAndTime without credentials and anything else only with them (SOAP NotAuthorized, HTTP 400)', async () => {
    const time = await post(
      cam.onvifXAddr,
      soap('<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>'),
    );
    expect(time.status).toBe(200);
    const year = /<tt:Year>(\d+)<\/tt:Year>/.exec(time.text)?.[1];
    expect(Number(year)).toBe(new Date().getUTCFullYear());

    const info = await post(
      cam.onvifXAddr,
      soap('<GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/>'),
    );
    expect(info.status).toBe(400);
    expect(info.text).toContain('<s:Value>s:Sender</s:Value>');
    expect(info.text).toContain('<s:Value>ter:NotAuthorized</s:Value>');
    expect(cam.lastAuthFailure).toBe('no UsernameToken');
  });

  it('stopRtsp makes the stream unreachable while ONVIF keeps answering; startRtsp brings it back on the same URL', async () => {
    await cam.stopRtsp();
    expect(cam.rtspRunning).toBe(false);
    expect(alive(pid)).toBe(false);
    const down = await pull(cam.rtspUrl, 'tcp', 1, 768, 576);
    expect(down.ok).toBe(false);
    expect(down.stderr).toMatch(/Connection refused/i);
    const time = await post(
      cam.onvifXAddr,
      soap('<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>'),
    );
    expect(time.status).toBe(200);

    await cam.startRtsp();
    expect(cam.rtspRunning).toBe(true);
    pid = cam.rtspPid as number;
    const up = await pull(cam.rtspUrl, 'tcp', 10, 768, 576);
    expect([up.ok, up.frames]).toEqual([true, 10]);
  });

  it('pauseRtsp freezes the server like a hung camera (a new pull times out); resumeRtsp lets it answer again', async () => {
    cam.pauseRtsp();
    try {
      // -timeout: ffmpeg's RTSP socket I/O timeout (µs); the frozen server accepts the TCP connection but never answers.
      const { ok, stderr } = await execFileAsync(
        'ffmpeg',
        [
          '-nostdin',
          '-v',
          'error',
          '-timeout',
          '1500000',
          '-rtsp_transport',
          'tcp',
          '-i',
          cam.rtspUrl,
          '-frames:v',
          '1',
          '-f',
          'null',
          '-',
        ],
        { timeout: 30_000 },
      ).then(
        () => ({ ok: true, stderr: '' }),
        (err: { stderr?: string }) => ({ ok: false, stderr: err.stderr ?? '' }),
      );
      // Not refused: the server is alive and accepted the connection, it just never answered.
      expect(ok).toBe(false);
      expect(stderr).not.toMatch(/refused/i);
      expect(alive(cam.rtspPid as number)).toBe(true);
    } finally {
      cam.resumeRtsp();
    }
    const up = await pull(cam.rtspUrl, 'tcp', 5, 768, 576);
    expect([up.ok, up.frames]).toEqual([true, 5]);
  });

  it('leaves no RTSP server process behind once closed, even a paused one', async () => {
    const other = await startVirtualCamera({ clip: VTEST, username: USER, password: PASS, discovery: false });
    const otherPid = other.rtspPid as number;
    expect(alive(otherPid)).toBe(true);
    other.pauseRtsp();
    await other.close();
    expect(alive(otherPid)).toBe(false);
  });
});

describe('virtual camera with RTSP authentication', () => {
  it('refuses a pull without credentials and serves one with them (RTSP Digest)', async () => {
    const cam = await startVirtualCamera({
      clip: VTEST,
      username: USER,
      password: PASS,
      rtspAuth: true,
      discovery: false,
    });
    try {
      const anonymous = await pull(cam.subStreamUrl, 'tcp', 1, 320, 240);
      expect(anonymous.ok).toBe(false);
      expect(anonymous.stderr).toMatch(/401 Unauthorized/);
      const url = new URL(cam.subStreamUrl);
      url.username = encodeURIComponent(USER);
      url.password = encodeURIComponent(PASS);
      const authed = await pull(url.toString(), 'tcp', 5, 320, 240);
      expect([authed.ok, authed.frames]).toEqual([true, 5]);
    } finally {
      await cam.close();
    }
  });
});

describe('virtual camera looping', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-vcam-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loops a clip shorter than the pull, so the stream never ends', async () => {
    // 2 s of the shared clip = 20 frames; 45 frames can only arrive if the camera loops it.
    const short = path.join(dir, 'short.avi');
    await execFileAsync('ffmpeg', ['-nostdin', '-v', 'error', '-i', VTEST, '-t', '2', '-c', 'copy', short]);
    const cam = await startVirtualCamera({ clip: short, username: USER, password: PASS, discovery: false });
    try {
      const result = await pull(cam.subStreamUrl, 'tcp', 45, 320, 240);
      expect([result.ok, result.frames]).toEqual([true, 45]);
    } finally {
      await cam.close();
    }
  });
});
