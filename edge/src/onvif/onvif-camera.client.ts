import { Cam, type CamProfile } from 'onvif';
import { redactSecrets } from '@vigil/common';
import {
  selectDetectionProfile,
  selectMainProfile,
  type ModelInput,
  type ResizeMode,
  type StreamProfile,
} from './detection-profile';
import { OnvifError, OnvifErrorCode } from './onvif.errors';

export interface OnvifConnectOptions {
  /** Device service address (an XAddr from discovery), e.g. `http://10.0.0.5/onvif/device_service`. */
  xaddr: string;
  username: string;
  password: string;
  /** Per request. Default 5000 ms. */
  timeoutMs?: number;
}

export interface OnvifDeviceInformation {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

export interface OnvifProfile extends StreamProfile {
  name: string;
  /** e.g. `H264`, `H265`, `JPEG`. */
  encoding: string;
  bitrateKbps?: number;
}

/** RTP over the RTSP TCP connection (`RTSP`) or over UDP (`UDP`); cameras usually give the same URI for both. */
export type StreamProtocol = 'RTSP' | 'UDP';

type Callback<T> = (err: Error | null, data?: T, xml?: string) => void;

// linerase() in the package turns numeric-looking text into numbers, so tokens and names may arrive as numbers.
const str = (value: unknown): string =>
  typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
const num = (value: unknown): number | undefined => {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : undefined;
};

function toProfile(raw: CamProfile): OnvifProfile | null {
  const encoder = raw.videoEncoderConfiguration as
    | { encoding?: unknown; resolution?: { width?: unknown; height?: unknown }; rateControl?: Record<string, unknown> }
    | undefined;
  const token = str((raw.$ as { token?: unknown } | undefined)?.token ?? raw.token);
  const width = num(encoder?.resolution?.width);
  const height = num(encoder?.resolution?.height);
  if (!token || !width || !height) return null;
  return {
    token,
    name: str(raw.name) || token,
    encoding: str(encoder?.encoding),
    width,
    height,
    frameRate: num(encoder?.rateControl?.frameRateLimit),
    bitrateKbps: num(encoder?.rateControl?.bitrateLimit),
  };
}

/**
 * An ONVIF camera reached through the `onvif` package (WS-UsernameToken digest, the device clock read first so
 * the digest timestamps match the camera's). Every failure is an {@link OnvifError} whose message carries no
 * credential.
 */
export class OnvifCameraClient {
  private constructor(
    private readonly cam: Cam,
    /** `host:port` of the device service, for messages and grouping. */
    readonly device: string,
    private readonly secrets: readonly string[],
  ) {}

  static async connect(options: OnvifConnectOptions): Promise<OnvifCameraClient> {
    let url: URL;
    try {
      url = new URL(options.xaddr);
    } catch {
      throw new OnvifError(OnvifErrorCode.UNREACHABLE, `not a device service address: ${redactSecrets(options.xaddr)}`);
    }
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    const device = `${url.hostname}:${port}`;
    const cam = new Cam({
      hostname: url.hostname,
      port,
      path: url.pathname,
      useSecure: url.protocol === 'https:',
      username: options.username,
      password: options.password,
      timeout: options.timeoutMs ?? 5000,
      autoconnect: false,
      // Service addresses must stay on the host we were given: behind NAT a camera reports its private IP.
      preserveAddress: true,
    });
    // The package reports recoverable oddities as 'warning'; without a listener they would just be dropped anyway.
    cam.on('warning', () => undefined);
    const client = new OnvifCameraClient(cam, device, [options.password, options.username]);
    await client.call<void>('connect to', (cb) => cam.connect(cb));
    return client;
  }

  async deviceInformation(): Promise<OnvifDeviceInformation> {
    const info = await this.call<Record<string, unknown>>('read device information from', (cb) =>
      this.cam.getDeviceInformation(cb),
    );
    return {
      manufacturer: str(info?.manufacturer),
      model: str(info?.model),
      firmwareVersion: str(info?.firmwareVersion),
      serialNumber: str(info?.serialNumber),
      hardwareId: str(info?.hardwareId),
    };
  }

  /** Media profiles that carry a video encoder with a resolution. */
  async profiles(): Promise<OnvifProfile[]> {
    const raw = await this.call<CamProfile[]>('read media profiles from', (cb) => this.cam.getProfiles(cb));
    if (!Array.isArray(raw)) throw this.protocolError('GetProfiles returned no profile list');
    return raw.map(toProfile).filter((p): p is OnvifProfile => p !== null);
  }

  /** The stream URI exactly as the device gives it (usually without credentials; log it through redactUrl). */
  async streamUri(profileToken: string, protocol: StreamProtocol = 'RTSP'): Promise<string> {
    const media = await this.call<{ uri?: unknown }>('read the stream URI from', (cb) =>
      this.cam.getStreamUri({ protocol, profileToken }, cb),
    );
    return this.uri(media?.uri, /^rtsps?:\/\//i, 'GetStreamUri');
  }

  async snapshotUri(profileToken: string): Promise<string> {
    const media = await this.call<{ uri?: unknown }>('read the snapshot URI from', (cb) =>
      this.cam.getSnapshotUri({ profileToken }, cb),
    );
    return this.uri(media?.uri, /^https?:\/\//i, 'GetSnapshotUri');
  }

  private uri(value: unknown, scheme: RegExp, operation: string): string {
    if (typeof value !== 'string' || !scheme.test(value.trim())) {
      throw this.protocolError(`${operation} returned no usable URI`);
    }
    return value.trim();
  }

  private protocolError(message: string): OnvifError {
    return new OnvifError(OnvifErrorCode.PROTOCOL, `ONVIF device ${this.device}: ${message}`, this.device);
  }

  /** Runs one callback-style call of the package; settles once even if the package calls back twice. */
  private call<T>(what: string, run: (cb: Callback<T>) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const cb: Callback<T> = (err, data, xml) => {
        if (settled) return;
        settled = true;
        if (err) reject(this.classify(what, err, xml));
        else resolve(data as T);
      };
      try {
        run(cb);
      } catch (err) {
        cb(err as Error);
      }
    });
  }

  private classify(what: string, err: Error, xml: string | undefined): OnvifError {
    const code = (err as NodeJS.ErrnoException).code;
    const text = `${err.message} ${xml ?? ''}`.toLowerCase();
    const detail = redactSecrets(err.message, this.secrets);
    const make = (c: OnvifErrorCode, message: string): OnvifError =>
      new OnvifError(c, `cannot ${what} ONVIF device ${this.device}: ${message}`, this.device);
    if (
      text.includes('notauthorized') ||
      text.includes('not authorized') ||
      text.includes('digest authentication failed') ||
      text.includes('unauthorized')
    ) {
      return make(OnvifErrorCode.UNAUTHORIZED, 'the device rejected the credentials');
    }
    if (err.message === 'Network timeout' || code === 'ETIMEDOUT') {
      return make(OnvifErrorCode.TIMEOUT, 'no answer in time');
    }
    if (
      code === 'ECONNREFUSED' ||
      code === 'EHOSTUNREACH' ||
      code === 'ENETUNREACH' ||
      code === 'ENOTFOUND' ||
      code === 'EAI_AGAIN' ||
      code === 'ECONNRESET'
    ) {
      return make(OnvifErrorCode.UNREACHABLE, `${code} (${detail})`);
    }
    return make(OnvifErrorCode.PROTOCOL, detail);
  }
}

export interface DescribeOptions extends OnvifConnectOptions {
  modelInput: ModelInput;
  /** The media profile to run detection on; when absent, the one closest above the model input. */
  profileToken?: string;
  resize?: ResizeMode;
  protocol?: StreamProtocol;
}

export interface OnvifStream {
  profile: OnvifProfile;
  /** As the device returned it; may need credentials added for RTSP and must be logged through redactUrl. */
  streamUri: string;
}

export interface OnvifCameraDescription {
  device: OnvifDeviceInformation;
  profiles: OnvifProfile[];
  /** The stream to run detection on (see selectDetectionProfile). */
  detection: OnvifStream;
  /** The largest stream, for evidence and viewing. */
  main: OnvifStream;
  /** Snapshot of the main profile; undefined when the device offers none. */
  snapshotUri?: string;
}

/** Everything the edge needs from an ONVIF camera: identity, profiles, the detection stream and the main stream. */
export async function describeOnvifCamera(options: DescribeOptions): Promise<OnvifCameraDescription> {
  const client = await OnvifCameraClient.connect(options);
  const device = await client.deviceInformation();
  const profiles = await client.profiles();
  const mainProfile = selectMainProfile(profiles);
  const detectionProfile =
    options.profileToken === undefined
      ? selectDetectionProfile(profiles, options.modelInput, options.resize)
      : profiles.find((p) => p.token === options.profileToken);
  if (options.profileToken !== undefined && !detectionProfile) {
    throw new OnvifError(
      OnvifErrorCode.NO_PROFILES,
      `ONVIF device ${client.device} offers no video profile "${options.profileToken}" ` +
        `(offered: ${profiles.map((p) => p.token).join(', ') || 'none'})`,
      client.device,
    );
  }
  if (!detectionProfile || !mainProfile) {
    throw new OnvifError(
      OnvifErrorCode.NO_PROFILES,
      `ONVIF device ${client.device} has no media profile with a video encoder`,
      client.device,
    );
  }
  const protocol = options.protocol ?? 'RTSP';
  const detection = { profile: detectionProfile, streamUri: await client.streamUri(detectionProfile.token, protocol) };
  const main =
    mainProfile === detectionProfile
      ? detection
      : { profile: mainProfile, streamUri: await client.streamUri(mainProfile.token, protocol) };
  let snapshotUri: string | undefined;
  try {
    snapshotUri = await client.snapshotUri(mainProfile.token);
  } catch (err) {
    // Snapshots are optional in Profile S; anything but "not offered" is still a failure worth reporting.
    if (!(err instanceof OnvifError) || err.code !== OnvifErrorCode.PROTOCOL) throw err;
  }
  return { device, profiles, detection, main, snapshotUri };
}
