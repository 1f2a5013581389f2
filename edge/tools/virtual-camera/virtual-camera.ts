import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readClipInfo } from './clip-info';
import { OnvifDeviceServer, type VirtualProfile } from './onvif-device.server';
import { RtspServerProcess, type RtspTransport } from './rtsp-server.process';
import { grabJpeg } from './snapshot';
import { WsDiscoveryResponder, WS_DISCOVERY_PORT } from './ws-discovery.responder';

export type { RtspTransport } from './rtsp-server.process';

export interface VirtualCameraOptions {
  /** Video file served as the camera's picture, looped forever at real time. */
  clip: string;
  /** ONVIF credentials (WS-UsernameToken digest); also required by RTSP when `rtspAuth` is set. */
  username: string;
  password: string;
  /** Default: any free port (kept across stopRtsp/startRtsp). */
  rtspPort?: number;
  /** Default: any free port. */
  onvifPort?: number;
  /** Address to bind and to write into every URI; default 127.0.0.1. */
  host?: string;
  name?: string;
  /** RTP transports offered; default both, like most cameras. */
  transport?: RtspTransport;
  /** Require RTSP Digest authentication with the same credentials (real cameras do). Default false. */
  rtspAuth?: boolean;
  /** Second profile's size; default 320 px wide (at most half the clip's width), clip aspect ratio. */
  subStream?: { width: number; height: number };
  /** WS-Discovery: port (default 3702), multicast interface; `false` turns discovery off. */
  discovery?: false | { port?: number; interfaceAddress?: string };
}

export interface VirtualCameraProfile {
  token: string;
  name: string;
  width: number;
  height: number;
  fps: number;
  rtspUrl: string;
  snapshotUrl: string;
}

export interface VirtualCamera {
  /** Main stream, without credentials (as a camera's GetStreamUri returns it). */
  readonly rtspUrl: string;
  readonly subStreamUrl: string;
  /** Device service address, as announced by WS-Discovery. */
  readonly onvifXAddr: string;
  /** Snapshot of the main profile (HTTP GET, JPEG). */
  readonly snapshotUrl: string;
  /** WS-Discovery endpoint reference (`urn:uuid:...`), to pick this camera out of a discovery result. */
  readonly endpointReference: string;
  /** UDP port answering WS-Discovery probes; null when discovery is off. */
  readonly discoveryPort: number | null;
  /** Whether WS-Discovery joined the multicast group (false: only directed probes reach it). */
  readonly discoveryMulticast: boolean;
  readonly profiles: readonly VirtualCameraProfile[];
  readonly rtspRunning: boolean;
  /** PID of the RTSP server process, null while stopped. */
  readonly rtspPid: number | null;
  /** Why the last ONVIF request was refused (never sent to the client). */
  readonly lastAuthFailure: string | null;
  /** Kills the RTSP server (a camera whose stream dies); ONVIF keeps answering. */
  stopRtsp(): Promise<void>;
  /** Starts the RTSP server again on the same port. */
  startRtsp(): Promise<void>;
  /** Freezes the RTSP server (SIGSTOP): connections stay open, nothing flows, a hung camera. */
  pauseRtsp(): void;
  /** Lets a paused RTSP server continue. */
  resumeRtsp(): void;
  close(): Promise<void>;
}

const even = (n: number): number => Math.max(2, Math.round(n / 2) * 2);

/**
 * A camera for tests and demos: a real clip as a real RTSP stream (Debian's gst-rtsp-server), with our ONVIF
 * device/media services (SOAP, WS-UsernameToken digest) and WS-Discovery answering for it.
 */
export async function startVirtualCamera(options: VirtualCameraOptions): Promise<VirtualCamera> {
  if (!existsSync(options.clip)) throw new Error(`clip not found: ${options.clip}`);
  const clip = await readClipInfo(options.clip);
  const host = options.host ?? '127.0.0.1';
  const name = options.name ?? 'Vigil Virtual Camera';
  const fps = clip.fps.num / clip.fps.den;
  const subWidth = options.subStream?.width ?? even(Math.min(320, clip.width / 2));
  const subHeight = options.subStream?.height ?? even((subWidth * clip.height) / clip.width);
  const profiles: VirtualProfile[] = [
    {
      token: 'Profile_1',
      name: 'MainStream',
      width: clip.width,
      height: clip.height,
      fps,
      bitrateKbps: 1500,
      rtspPath: '/stream1',
    },
    {
      token: 'Profile_2',
      name: 'SubStream',
      width: subWidth,
      height: subHeight,
      fps,
      bitrateKbps: 1500,
      rtspPath: '/stream2',
    },
  ];
  const transport = options.transport ?? 'tcp+udp';

  const rtsp = new RtspServerProcess({
    clip: options.clip,
    streams: profiles.map((p) => ({ path: p.rtspPath, width: p.width, height: p.height })),
    fps: `${clip.fps.num}/${clip.fps.den}`,
    address: host,
    port: options.rtspPort,
    transport,
    auth: options.rtspAuth ? { username: options.username, password: options.password } : undefined,
  });

  const startedAt = Date.now();
  const endpointReference = `urn:uuid:${randomUUID()}`;
  const serial = endpointReference.slice(-12).toUpperCase();
  const scopes = [
    'onvif://www.onvif.org/type/video_encoder',
    'onvif://www.onvif.org/Profile/Streaming',
    `onvif://www.onvif.org/name/${encodeURIComponent(name)}`,
    'onvif://www.onvif.org/hardware/VigilVirtualCamera',
    'onvif://www.onvif.org/location/virtual',
  ];
  const onvif = new OnvifDeviceServer({
    host,
    bindAddress: host,
    port: options.onvifPort ?? 0,
    username: options.username,
    password: options.password,
    identity: {
      manufacturer: 'Vigil',
      model: 'VigilVirtualCamera',
      firmwareVersion: '1.0.0',
      serialNumber: serial,
      hardwareId: 'virtual-gst-rtsp',
    },
    scopes,
    videoSource: { token: 'VideoSource_1', width: clip.width, height: clip.height, fps },
    profiles,
    rtspOverTcp: transport !== 'udp',
    rtspPort: () => rtsp.port,
    // The picture "now": where the looping clip would be after the time the camera has been up.
    snapshot: (p) => {
      const at = ((Date.now() - startedAt) / 1000) % Math.max(clip.durationSec - 1, 0.001);
      return grabJpeg(options.clip, at, p.width, p.height);
    },
  });

  const discovery =
    options.discovery === false
      ? null
      : new WsDiscoveryResponder({
          endpointReference,
          xaddrs: () => [onvif.xaddr],
          scopes,
          port: options.discovery?.port ?? WS_DISCOVERY_PORT,
          interfaceAddress: options.discovery?.interfaceAddress,
        });

  const cleanups: (() => Promise<void>)[] = [];
  try {
    await rtsp.start();
    cleanups.push(() => rtsp.stop());
    await onvif.listen();
    cleanups.push(() => onvif.close());
    if (discovery) {
      await discovery.start();
      cleanups.push(() => discovery.close());
    }
  } catch (err) {
    for (const cleanup of cleanups.reverse()) await cleanup();
    throw err;
  }

  const described = profiles.map((p) => ({
    token: p.token,
    name: p.name,
    width: p.width,
    height: p.height,
    fps,
    rtspUrl: onvif.streamUrl(p),
    snapshotUrl: onvif.snapshotUrl(p.token),
  }));
  let closed = false;
  return {
    rtspUrl: described[0].rtspUrl,
    subStreamUrl: described[1].rtspUrl,
    onvifXAddr: onvif.xaddr,
    snapshotUrl: described[0].snapshotUrl,
    endpointReference,
    discoveryPort: discovery ? discovery.port : null,
    discoveryMulticast: discovery?.joinedMulticast ?? false,
    profiles: described,
    get rtspRunning() {
      return rtsp.running;
    },
    get rtspPid() {
      return rtsp.pid;
    },
    get lastAuthFailure() {
      return onvif.lastAuthFailure;
    },
    stopRtsp: () => rtsp.stop(),
    startRtsp: () => rtsp.start(),
    pauseRtsp: () => rtsp.pause(),
    resumeRtsp: () => rtsp.resume(),
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all([rtsp.stop(), onvif.close(), discovery?.close()]);
    },
  };
}
