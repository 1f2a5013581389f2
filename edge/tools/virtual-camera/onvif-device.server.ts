import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { child, envelope, faultEnvelope, parseXml, text, xmlEscape, type SoapFault, type XmlNode } from './soap';
import { readUsernameToken, UsernameTokenVerifier } from './ws-username-token';

export interface DeviceIdentity {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

export interface VirtualProfile {
  token: string;
  name: string;
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
  /** Mount path on the RTSP server, e.g. `/stream1`. */
  rtspPath: string;
}

export interface OnvifDeviceServerOptions {
  /** Host written into every URI the device hands out (XAddrs, stream and snapshot URIs). */
  host: string;
  bindAddress: string;
  /** 0: any free port. */
  port: number;
  username: string;
  password: string;
  identity: DeviceIdentity;
  scopes: readonly string[];
  videoSource: { token: string; width: number; height: number; fps: number };
  profiles: readonly VirtualProfile[];
  /** Whether the RTSP server offers RTP interleaved over the RTSP TCP connection. */
  rtspOverTcp: boolean;
  /** RTSP port, read per request because it is only known once the RTSP server runs. */
  rtspPort: () => number;
  snapshot: (profile: VirtualProfile) => Promise<Buffer>;
}

export const DEVICE_PATH = '/onvif/device_service';
export const MEDIA_PATH = '/onvif/media_service';
export const SNAPSHOT_PATH = '/onvif/snapshot';

const MAX_BODY_BYTES = 1 << 20;
const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8';

/** Answered without credentials: clients read the device clock first to compute WS-Security timestamps. */
const UNAUTHENTICATED = new Set(['GetSystemDateAndTime']);

class FaultError extends Error {
  constructor(readonly fault: SoapFault) {
    super(fault.reason);
  }
}

const NOT_AUTHORIZED: SoapFault = {
  code: 'Sender',
  subcodes: ['ter:NotAuthorized'],
  reason: 'Sender not Authorized',
  detail: 'The action requested requires authorization and the sender is not authorized',
};

/**
 * The ONVIF device and media services of the virtual camera (Profile S subset over SOAP 1.2 / HTTP), plus the
 * snapshot endpoint its GetSnapshotUri points at.
 */
export class OnvifDeviceServer {
  private readonly server: http.Server;
  private readonly verifier: UsernameTokenVerifier;
  private boundPort = 0;
  /** Last rejected authentication and why, for tests and the CLI; never sent to the client. */
  lastAuthFailure: string | null = null;

  constructor(private readonly options: OnvifDeviceServerOptions) {
    this.verifier = new UsernameTokenVerifier(options.username, options.password);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (res.headersSent) res.destroy();
        else res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`internal error: ${(err as Error).message}`);
      });
    });
  }

  get port(): number {
    return this.boundPort;
  }

  get baseUrl(): string {
    return `http://${this.options.host}:${this.boundPort}`;
  }

  get xaddr(): string {
    return `${this.baseUrl}${DEVICE_PATH}`;
  }

  snapshotUrl(profileToken: string): string {
    return `${this.baseUrl}${SNAPSHOT_PATH}?profile=${encodeURIComponent(profileToken)}`;
  }

  streamUrl(profile: VirtualProfile): string {
    return `rtsp://${this.options.host}:${this.options.rtspPort()}${profile.rtspPath}`;
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.bindAddress, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
    return this.boundPort;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://camera');
    if (req.method === 'GET' && url.pathname === SNAPSHOT_PATH) {
      await this.serveSnapshot(url.searchParams.get('profile'), res);
      return;
    }
    if (req.method !== 'POST' || (url.pathname !== DEVICE_PATH && url.pathname !== MEDIA_PATH)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    let response: string;
    try {
      response = this.dispatch(await readBody(req));
    } catch (err) {
      if (err instanceof FaultError) {
        this.sendFault(res, err.fault);
        return;
      }
      throw err;
    }
    res.writeHead(200, { 'Content-Type': SOAP_CONTENT_TYPE }).end(response);
  }

  private sendFault(res: http.ServerResponse, fault: SoapFault): void {
    // ONVIF Core §5.11.2: sender faults (bad request, NotAuthorized) are HTTP 400, receiver faults HTTP 500. A 401
    // would need a WWW-Authenticate challenge for HTTP Digest, which this device does not offer.
    res.writeHead(fault.code === 'Sender' ? 400 : 500, { 'Content-Type': SOAP_CONTENT_TYPE }).end(faultEnvelope(fault));
  }

  private dispatch(xml: string): string {
    let doc: XmlNode;
    try {
      doc = parseXml(xml);
    } catch {
      throw new FaultError({ code: 'Sender', subcodes: ['ter:WellFormed'], reason: 'Malformed XML' });
    }
    const env = child(doc, 'Envelope');
    const body = child(env, 'Body');
    const operation = body && typeof body === 'object' ? Object.keys(body).find((k) => !k.startsWith('@_')) : undefined;
    if (!operation) {
      throw new FaultError({ code: 'Sender', subcodes: ['ter:InvalidArgs'], reason: 'No operation in SOAP Body' });
    }
    if (!UNAUTHENTICATED.has(operation)) {
      const check = this.verifier.verify(readUsernameToken(child(env, 'Header')));
      if (!check.ok) {
        this.lastAuthFailure = check.reason;
        throw new FaultError(NOT_AUTHORIZED);
      }
    }
    const params = child(body, operation);
    return envelope(this.operation(operation, params));
  }

  private operation(name: string, params: unknown): string {
    switch (name) {
      case 'GetSystemDateAndTime':
        return this.systemDateAndTime();
      case 'GetDeviceInformation':
        return this.deviceInformation();
      case 'GetCapabilities':
        return this.capabilities();
      case 'GetServices':
        return this.services(text(child(params, 'IncludeCapability')) === 'true');
      case 'GetScopes':
        return `<tds:GetScopesResponse>${this.options.scopes
          .map(
            (s) =>
              `<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>${xmlEscape(s)}</tt:ScopeItem></tds:Scopes>`,
          )
          .join('')}</tds:GetScopesResponse>`;
      case 'GetVideoSources':
        return this.videoSources();
      case 'GetProfiles':
        return `<trt:GetProfilesResponse>${this.options.profiles.map((p) => this.profile('trt:Profiles', p)).join('')}</trt:GetProfilesResponse>`;
      case 'GetProfile':
        return `<trt:GetProfileResponse>${this.profile('trt:Profile', this.findProfile(params))}</trt:GetProfileResponse>`;
      case 'GetStreamUri':
        return this.streamUri(params);
      case 'GetSnapshotUri':
        return `<trt:GetSnapshotUriResponse>${this.mediaUri(this.snapshotUrl(this.findProfile(params).token))}</trt:GetSnapshotUriResponse>`;
      default:
        throw new FaultError({
          code: 'Receiver',
          subcodes: ['ter:ActionNotSupported'],
          reason: `Optional Action Not Implemented: ${name}`,
        });
    }
  }

  private systemDateAndTime(): string {
    const now = new Date();
    const dateTime = (d: Date): string =>
      `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
      `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>`;
    return (
      '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>' +
      '<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>' +
      '<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>' +
      `<tt:UTCDateTime>${dateTime(now)}</tt:UTCDateTime><tt:LocalDateTime>${dateTime(now)}</tt:LocalDateTime>` +
      '</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>'
    );
  }

  private deviceInformation(): string {
    const id = this.options.identity;
    return (
      '<tds:GetDeviceInformationResponse>' +
      `<tds:Manufacturer>${xmlEscape(id.manufacturer)}</tds:Manufacturer><tds:Model>${xmlEscape(id.model)}</tds:Model>` +
      `<tds:FirmwareVersion>${xmlEscape(id.firmwareVersion)}</tds:FirmwareVersion>` +
      `<tds:SerialNumber>${xmlEscape(id.serialNumber)}</tds:SerialNumber><tds:HardwareId>${xmlEscape(id.hardwareId)}</tds:HardwareId>` +
      '</tds:GetDeviceInformationResponse>'
    );
  }

  private streamingCapabilities(prefix: 'tt' | 'trt'): string {
    const tcp = String(this.options.rtspOverTcp);
    if (prefix === 'tt') {
      return (
        '<tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>false</tt:RTP_TCP>' +
        `<tt:RTP_RTSP_TCP>${tcp}</tt:RTP_RTSP_TCP></tt:StreamingCapabilities>`
      );
    }
    return `<trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="false" RTP_RTSP_TCP="${tcp}" NoRTSPStreaming="false"/>`;
  }

  private capabilities(): string {
    const base = this.baseUrl;
    return (
      '<tds:GetCapabilitiesResponse><tds:Capabilities>' +
      `<tt:Device><tt:XAddr>${base}${DEVICE_PATH}</tt:XAddr>` +
      '<tt:Network><tt:IPFilter>false</tt:IPFilter><tt:ZeroConfiguration>false</tt:ZeroConfiguration>' +
      '<tt:IPVersion6>false</tt:IPVersion6><tt:DynDNS>false</tt:DynDNS></tt:Network>' +
      '<tt:System><tt:DiscoveryResolve>false</tt:DiscoveryResolve><tt:DiscoveryBye>false</tt:DiscoveryBye>' +
      '<tt:RemoteDiscovery>false</tt:RemoteDiscovery><tt:SystemBackup>false</tt:SystemBackup>' +
      '<tt:SystemLogging>false</tt:SystemLogging><tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>' +
      '<tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tt:SupportedVersions></tt:System>' +
      '<tt:Security><tt:TLS1.1>false</tt:TLS1.1><tt:TLS1.2>false</tt:TLS1.2>' +
      '<tt:OnboardKeyGeneration>false</tt:OnboardKeyGeneration><tt:AccessPolicyConfig>false</tt:AccessPolicyConfig>' +
      '<tt:X.509Token>false</tt:X.509Token><tt:SAMLToken>false</tt:SAMLToken><tt:KerberosToken>false</tt:KerberosToken>' +
      '<tt:RELToken>false</tt:RELToken></tt:Security></tt:Device>' +
      `<tt:Media><tt:XAddr>${base}${MEDIA_PATH}</tt:XAddr>${this.streamingCapabilities('tt')}</tt:Media>` +
      '</tds:Capabilities></tds:GetCapabilitiesResponse>'
    );
  }

  private services(includeCapability: boolean): string {
    const base = this.baseUrl;
    const service = (namespace: string, path: string, capabilities: string): string =>
      `<tds:Service><tds:Namespace>${namespace}</tds:Namespace><tds:XAddr>${base}${path}</tds:XAddr>` +
      (includeCapability ? `<tds:Capabilities>${capabilities}</tds:Capabilities>` : '') +
      '<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>';
    return (
      '<tds:GetServicesResponse>' +
      service(
        'http://www.onvif.org/ver10/device/wsdl',
        DEVICE_PATH,
        '<tds:Capabilities><tds:Network IPFilter="false" ZeroConfiguration="false" IPVersion6="false" DynDNS="false"/>' +
          '<tds:Security UsernameToken="true" HttpDigest="false"/>' +
          '<tds:System DiscoveryResolve="false" DiscoveryBye="false" RemoteDiscovery="false" SystemBackup="false" ' +
          'SystemLogging="false" FirmwareUpgrade="false"/></tds:Capabilities>',
      ) +
      service(
        'http://www.onvif.org/ver10/media/wsdl',
        MEDIA_PATH,
        `<trt:Capabilities SnapshotUri="true" Rotation="false" VideoSourceMode="false" OSD="false">` +
          `<trt:ProfileCapabilities MaximumNumberOfProfiles="${this.options.profiles.length}"/>` +
          `${this.streamingCapabilities('trt')}</trt:Capabilities>`,
      ) +
      '</tds:GetServicesResponse>'
    );
  }

  private videoSources(): string {
    const vs = this.options.videoSource;
    return (
      `<trt:GetVideoSourcesResponse><trt:VideoSources token="${xmlEscape(vs.token)}">` +
      `<tt:Framerate>${vs.fps}</tt:Framerate>` +
      `<tt:Resolution><tt:Width>${vs.width}</tt:Width><tt:Height>${vs.height}</tt:Height></tt:Resolution>` +
      '</trt:VideoSources></trt:GetVideoSourcesResponse>'
    );
  }

  private profile(element: string, p: VirtualProfile): string {
    const vs = this.options.videoSource;
    const fps = Math.round(p.fps);
    return (
      `<${element} token="${xmlEscape(p.token)}" fixed="true"><tt:Name>${xmlEscape(p.name)}</tt:Name>` +
      `<tt:VideoSourceConfiguration token="VideoSourceConfig_1"><tt:Name>VideoSourceConfig</tt:Name>` +
      `<tt:UseCount>${this.options.profiles.length}</tt:UseCount><tt:SourceToken>${xmlEscape(vs.token)}</tt:SourceToken>` +
      `<tt:Bounds x="0" y="0" width="${vs.width}" height="${vs.height}"/></tt:VideoSourceConfiguration>` +
      `<tt:VideoEncoderConfiguration token="VideoEncoderConfig_${xmlEscape(p.token)}">` +
      `<tt:Name>${xmlEscape(p.name)}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>` +
      `<tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution>` +
      '<tt:Quality>5</tt:Quality>' +
      `<tt:RateControl><tt:FrameRateLimit>${fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval>` +
      `<tt:BitrateLimit>${p.bitrateKbps}</tt:BitrateLimit></tt:RateControl>` +
      `<tt:H264><tt:GovLength>${Math.max(1, fps)}</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile></tt:H264>` +
      '<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>' +
      '<tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>' +
      '<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>' +
      `</${element}>`
    );
  }

  private findProfile(params: unknown): VirtualProfile {
    const token = text(child(params, 'ProfileToken'));
    const profile = this.options.profiles.find((p) => p.token === token);
    if (!profile) {
      throw new FaultError({
        code: 'Sender',
        subcodes: ['ter:InvalidArgVal', 'ter:NoProfile'],
        reason: `Profile token does not exist: ${token ?? '(none)'}`,
      });
    }
    return profile;
  }

  private streamUri(params: unknown): string {
    const profile = this.findProfile(params);
    const setup = child(params, 'StreamSetup');
    const stream = text(child(setup, 'Stream')) ?? 'RTP-Unicast';
    const protocol = text(child(child(setup, 'Transport'), 'Protocol')) ?? 'RTSP';
    // Unicast RTP over UDP, over TCP, or interleaved in RTSP are served from the same URI; multicast and HTTP
    // tunnelling are not offered.
    if (stream !== 'RTP-Unicast' || !['UDP', 'TCP', 'RTSP'].includes(protocol)) {
      throw new FaultError({
        code: 'Sender',
        subcodes: ['ter:InvalidArgVal', 'ter:InvalidStreamSetup'],
        reason: `Stream setup not supported: ${stream} over ${protocol}`,
      });
    }
    return `<trt:GetStreamUriResponse>${this.mediaUri(this.streamUrl(profile))}</trt:GetStreamUriResponse>`;
  }

  private mediaUri(uri: string): string {
    return (
      `<trt:MediaUri><tt:Uri>${xmlEscape(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
      '<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>'
    );
  }

  private async serveSnapshot(token: string | null, res: http.ServerResponse): Promise<void> {
    const profile = this.options.profiles.find((p) => p.token === token) ?? this.options.profiles[0];
    const jpeg = await this.options.snapshot(profile);
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': jpeg.length, 'Cache-Control': 'no-store' });
    res.end(jpeg);
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new FaultError({ code: 'Sender', subcodes: ['ter:InvalidArgs'], reason: 'Request too large' }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
