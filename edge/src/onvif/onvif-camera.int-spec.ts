import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Discovery } from 'onvif';
import sharp from 'sharp';
import { freePort } from '../../../test/support/services';
import { resolveVideosDir } from '../detect/testing/read-frame';
import { startVirtualCamera, type VirtualCamera } from '../../tools/virtual-camera/virtual-camera';
import { describeOnvifCamera, OnvifCameraClient } from './onvif-camera.client';
import { OnvifError, OnvifErrorCode } from './onvif.errors';
import { discoverOnvifDevices } from './ws-discovery.client';

const execFileAsync = promisify(execFile);
// 768x432 at 10 fps: the virtual camera offers it as main stream and 320x180 as sub-stream.
const CLIP = path.join(resolveVideosDir(), 'intel_one-by-one-person-detection.mp4');
const USER = 'onvif-user';
const PASS = 'Pa55:w/rd@cam';
const YOLOX_INPUT = { width: 416, height: 416 };

jest.setTimeout(120_000);

async function rejection(promise: Promise<unknown>): Promise<OnvifError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(OnvifError);
    return err as OnvifError;
  }
  throw new Error('expected a rejection');
}

function expectNoSecret(err: Error): void {
  const text = `${err.message} ${err.stack ?? ''}`;
  expect(text).not.toContain(PASS);
  expect(text).not.toContain(encodeURIComponent(PASS));
  expect(text).not.toContain(USER);
}

describe('ONVIF client against the virtual camera', () => {
  let cam: VirtualCamera;

  beforeAll(async () => {
    cam = await startVirtualCamera({ clip: CLIP, username: USER, password: PASS, name: 'Crossing North 1' });
  });

  afterAll(async () => {
    await cam?.close();
  });

  it('multicast WS-Discovery finds the camera with its device service address and name', async () => {
    expect(cam.discoveryMulticast).toBe(true);
    const devices = await discoverOnvifDevices({ timeoutMs: 1500 });
    const found = devices.find((d) => d.endpointReference === cam.endpointReference);
    expect(found).toMatchObject({
      xaddr: cam.onvifXAddr,
      name: 'Crossing North 1',
      types: ['dn:NetworkVideoTransmitter', 'tds:Device'],
    });
  });

  it("the onvif package's own multicast Discovery.probe finds it too", async () => {
    // Discovery is an EventEmitter that emits 'error' for stray datagrams: without a listener that would throw.
    const strays: unknown[] = [];
    const onError = (e: unknown): number => strays.push(e);
    Discovery.on('error', onError);
    try {
      type Match = { probeMatches: { probeMatch: { endpointReference: { address: string }; XAddrs: string } } };
      // Its callback error is the list of stray datagrams; the devices found come alongside it.
      const found = await new Promise<Match[]>((resolve) =>
        Discovery.probe({ timeout: 1500, resolve: false }, (_err, cams) => resolve((cams ?? []) as Match[])),
      );
      const ours = found.find((d) => d.probeMatches.probeMatch.endpointReference.address === cam.endpointReference);
      expect(ours?.probeMatches.probeMatch.XAddrs).toBe(cam.onvifXAddr);
    } finally {
      Discovery.removeListener('error', onError);
    }
  });

  it('a directed (unicast) probe reaches a camera listening on another discovery port', async () => {
    const other = await startVirtualCamera({ clip: CLIP, username: USER, password: PASS, discovery: { port: 0 } });
    try {
      const devices = await discoverOnvifDevices({
        timeoutMs: 800,
        multicast: false,
        targets: [{ host: '127.0.0.1', port: other.discoveryPort as number }],
      });
      expect(devices.map((d) => [d.endpointReference, d.xaddr, d.address])).toEqual([
        [other.endpointReference, other.onvifXAddr, '127.0.0.1'],
      ]);
    } finally {
      await other.close();
    }
  });

  it('reads device information, profiles, stream and snapshot URIs through WS-UsernameToken digest auth', async () => {
    const description = await describeOnvifCamera({
      xaddr: cam.onvifXAddr,
      username: USER,
      password: PASS,
      modelInput: YOLOX_INPUT,
    });
    expect(description.device).toMatchObject({ manufacturer: 'Vigil', model: 'VigilVirtualCamera' });
    expect(description.device.serialNumber).not.toBe('');
    expect(description.profiles.map((p) => [p.token, p.name, p.encoding, p.width, p.height, p.frameRate])).toEqual([
      ['Profile_1', 'MainStream', 'H264', 768, 432, 10],
      ['Profile_2', 'SubStream', 'H264', 320, 180, 10],
    ]);
    // 320x180 cannot fill a 416x416 input, so detection runs on the main stream.
    expect(description.detection.profile.token).toBe('Profile_1');
    expect(description.detection.streamUri).toBe(cam.rtspUrl);
    expect(description.main.profile.token).toBe('Profile_1');
    expect(description.snapshotUri).toBe(cam.snapshotUrl);
  });

  it('picks the sub-stream when it is the closest above a smaller model input', async () => {
    const description = await describeOnvifCamera({
      xaddr: cam.onvifXAddr,
      username: USER,
      password: PASS,
      modelInput: { width: 320, height: 320 },
    });
    expect(description.detection.profile.token).toBe('Profile_2');
    expect(description.detection.streamUri).toBe(cam.subStreamUrl);
    expect(description.main.streamUri).toBe(cam.rtspUrl);
  });

  it('takes the configured profileToken over the automatic choice, and names an unknown one with those offered', async () => {
    const chosen = await describeOnvifCamera({
      xaddr: cam.onvifXAddr,
      username: USER,
      password: PASS,
      modelInput: YOLOX_INPUT,
      profileToken: 'Profile_2',
    });
    expect(chosen.detection.profile.token).toBe('Profile_2');
    expect(chosen.detection.streamUri).toBe(cam.subStreamUrl);
    const err = await describeOnvifCamera({
      xaddr: cam.onvifXAddr,
      username: USER,
      password: PASS,
      modelInput: YOLOX_INPUT,
      profileToken: 'Profile_9',
    }).then(
      () => {
        throw new Error('expected a failure');
      },
      (e: unknown) => e as OnvifError,
    );
    expect(err).toBeInstanceOf(OnvifError);
    expect(err.code).toBe(OnvifErrorCode.NO_PROFILES);
    expect(err.message).toMatch(/no video profile "Profile_9" \(offered: Profile_1, Profile_2\)/);
  });

  it('the returned stream URI delivers frames to ffmpeg over TCP, and the snapshot URI a real JPEG', async () => {
    const client = await OnvifCameraClient.connect({ xaddr: cam.onvifXAddr, username: USER, password: PASS });
    const streamUri = await client.streamUri('Profile_2');
    const { stdout } = await execFileAsync(
      'ffmpeg',
      [
        '-nostdin',
        '-v',
        'error',
        '-rtsp_transport',
        'tcp',
        '-i',
        streamUri,
        '-frames:v',
        '10',
        '-f',
        'rawvideo',
      ].concat(['-pix_fmt', 'gray', 'pipe:1']),
      { encoding: 'buffer', maxBuffer: 16 << 20, timeout: 60_000, killSignal: 'SIGKILL' },
    );
    expect(stdout.length).toBe(10 * 320 * 180);

    const res = await fetch(await client.snapshotUri('Profile_1'));
    const jpeg = Buffer.from(await res.arrayBuffer());
    expect([...jpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    const meta = await sharp(jpeg).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 768, 432]);
  });

  it('wrong credentials give a typed UNAUTHORIZED error that names neither user nor password', async () => {
    const err = await rejection(
      describeOnvifCamera({
        xaddr: cam.onvifXAddr,
        username: USER,
        password: 'not-the-password',
        modelInput: YOLOX_INPUT,
      }),
    );
    expect(err.code).toBe(OnvifErrorCode.UNAUTHORIZED);
    expect(err.message).toMatch(/rejected the credentials/);
    expect(err.device).toBe(new URL(cam.onvifXAddr).host);
    expect(cam.lastAuthFailure).toBe('wrong user name or password');
    expectNoSecret(err);

    const wrongUser = await rejection(
      OnvifCameraClient.connect({ xaddr: cam.onvifXAddr, username: 'x', password: PASS }),
    );
    expect(wrongUser.code).toBe(OnvifErrorCode.UNAUTHORIZED);
    expectNoSecret(wrongUser);
  });

  it('an unknown profile token is a PROTOCOL error carrying the device fault', async () => {
    const client = await OnvifCameraClient.connect({ xaddr: cam.onvifXAddr, username: USER, password: PASS });
    const err = await rejection(client.streamUri('Profile_9'));
    expect(err.code).toBe(OnvifErrorCode.PROTOCOL);
    expect(err.message).toMatch(/Profile token does not exist/);
  });
});

describe('ONVIF client failures without a camera', () => {
  it('nothing listening: UNREACHABLE', async () => {
    const port = await freePort();
    const err = await rejection(
      OnvifCameraClient.connect({
        xaddr: `http://127.0.0.1:${port}/onvif/device_service`,
        username: USER,
        password: PASS,
      }),
    );
    expect(err.code).toBe(OnvifErrorCode.UNREACHABLE);
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expectNoSecret(err);
  });

  it('a web server that is not an ONVIF device: PROTOCOL', async () => {
    const server = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html/>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const err = await rejection(
        OnvifCameraClient.connect({
          xaddr: `http://127.0.0.1:${port}/onvif/device_service`,
          username: USER,
          password: PASS,
        }),
      );
      expect(err.code).toBe(OnvifErrorCode.PROTOCOL);
      expectNoSecret(err);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a device that never answers: TIMEOUT', async () => {
    const server = http.createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const err = await rejection(
        OnvifCameraClient.connect({
          xaddr: `http://127.0.0.1:${port}/onvif/device_service`,
          username: USER,
          password: PASS,
          timeoutMs: 300,
        }),
      );
      expect(err.code).toBe(OnvifErrorCode.TIMEOUT);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('discovery with nothing to probe is a DISCOVERY_FAILED error', async () => {
    const err = await rejection(discoverOnvifDevices({ multicast: false }));
    expect(err.code).toBe(OnvifErrorCode.DISCOVERY_FAILED);
  });
});
