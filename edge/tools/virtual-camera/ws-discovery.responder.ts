import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import os from 'node:os';
import { child, envelope, parseXml, text, xmlEscape } from './soap';

export const WS_DISCOVERY_GROUP = '239.255.255.250';
export const WS_DISCOVERY_PORT = 3702;

const PROBE_ACTION = 'http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe';
const PROBE_MATCHES_ACTION = 'http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches';
const ANONYMOUS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';
const OUR_TYPES = ['NetworkVideoTransmitter', 'Device'];
const SEEN_MESSAGE_IDS = 256;

export interface WsDiscoveryResponderOptions {
  /** `urn:uuid:...`, stable for the device's lifetime. */
  endpointReference: string;
  xaddrs: () => readonly string[];
  scopes: readonly string[];
  /** Default 3702; another port makes the device reachable only by a directed probe. */
  port?: number;
  bindAddress?: string;
  /** IPv4 address of the interface whose multicast group to join; default: every IPv4 interface. */
  interfaceAddress?: string;
  /** Upper bound of the random delay before answering a multicast probe (WS-Discovery APP_MAX_DELAY, 500 ms). */
  maxReplyDelayMs?: number;
}

/** Local name of a QName like `dn:NetworkVideoTransmitter` or `{ns}NetworkVideoTransmitter`. */
function localName(qname: string): string {
  return qname.replace(/^.*[:}]/, '');
}

/** RFC 3986 prefix matching of a probe's scope against ours (the WS-Discovery default MatchBy). */
function scopeMatches(wanted: string, ours: string): boolean {
  const a = wanted.replace(/\/+$/, '');
  const b = ours.replace(/\/+$/, '');
  return b === a || b.startsWith(`${a}/`);
}

/**
 * The WS-Discovery target service of the virtual camera: joins 239.255.255.250:3702 and answers every Probe whose
 * types and scopes it matches with a unicast ProbeMatches to the prober's address and port, as cameras do.
 */
export class WsDiscoveryResponder {
  private readonly socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  private readonly instanceId = Math.floor(Date.now() / 1000);
  private messageNumber = 0;
  private readonly seen: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private boundPort = 0;
  /** Whether the multicast group could be joined on at least one interface. */
  joinedMulticast = false;
  /** Probes answered, for diagnostics. */
  answered = 0;

  constructor(private readonly options: WsDiscoveryResponderOptions) {
    this.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    // A malformed datagram or a closed peer must never take the camera down.
    this.socket.on('error', () => undefined);
  }

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(this.options.port ?? WS_DISCOVERY_PORT, this.options.bindAddress ?? '0.0.0.0', () => {
        this.socket.off('error', reject);
        resolve();
      });
    });
    this.boundPort = this.socket.address().port;
    const interfaces = this.options.interfaceAddress ? [this.options.interfaceAddress] : ipv4Addresses();
    let joined = 0;
    for (const address of interfaces) {
      try {
        this.socket.addMembership(WS_DISCOVERY_GROUP, address);
        joined++;
      } catch {
        // An interface without multicast (or already joined through another alias) is skipped.
      }
    }
    // Without a multicast-capable interface the device still answers directed (unicast) probes.
    this.joinedMulticast = joined > 0;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    let doc;
    try {
      doc = parseXml(msg.toString('utf8'));
    } catch {
      return;
    }
    const env = child(doc, 'Envelope');
    const header = child(env, 'Header');
    const probe = child(child(env, 'Body'), 'Probe');
    const action = text(child(header, 'Action'));
    if (probe === undefined || (action !== undefined && action !== PROBE_ACTION)) return;
    const messageId = text(child(header, 'MessageID')) ?? '';
    // The same probe may arrive once per joined interface, and WS-Discovery clients repeat probes over UDP.
    if (messageId) {
      if (this.seen.includes(messageId)) return;
      this.seen.push(messageId);
      if (this.seen.length > SEEN_MESSAGE_IDS) this.seen.shift();
    }
    if (!this.matches(probe)) return;
    const reply = Buffer.from(this.probeMatches(messageId), 'utf8');
    const delay = Math.random() * (this.options.maxReplyDelayMs ?? 100);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.answered++;
      this.socket.send(reply, rinfo.port, rinfo.address);
    }, delay);
    this.timers.add(timer);
  }

  private matches(probe: unknown): boolean {
    const types = (text(child(probe, 'Types')) ?? '').split(/\s+/).filter(Boolean).map(localName);
    if (types.some((t) => !OUR_TYPES.includes(t))) return false;
    const scopes = (text(child(probe, 'Scopes')) ?? '').split(/\s+/).filter(Boolean);
    return scopes.every((wanted) => this.options.scopes.some((ours) => scopeMatches(wanted, ours)));
  }

  private probeMatches(relatesTo: string): string {
    const header =
      `<wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID>` +
      (relatesTo ? `<wsa:RelatesTo>${xmlEscape(relatesTo)}</wsa:RelatesTo>` : '') +
      `<wsa:To>${ANONYMOUS}</wsa:To><wsa:Action>${PROBE_MATCHES_ACTION}</wsa:Action>` +
      `<wsd:AppSequence InstanceId="${this.instanceId}" MessageNumber="${++this.messageNumber}"/>`;
    const body =
      '<wsd:ProbeMatches><wsd:ProbeMatch>' +
      `<wsa:EndpointReference><wsa:Address>${xmlEscape(this.options.endpointReference)}</wsa:Address></wsa:EndpointReference>` +
      '<wsd:Types>dn:NetworkVideoTransmitter tds:Device</wsd:Types>' +
      `<wsd:Scopes>${this.options.scopes.map(xmlEscape).join(' ')}</wsd:Scopes>` +
      `<wsd:XAddrs>${this.options.xaddrs().map(xmlEscape).join(' ')}</wsd:XAddrs>` +
      '<wsd:MetadataVersion>1</wsd:MetadataVersion>' +
      '</wsd:ProbeMatch></wsd:ProbeMatches>';
    return envelope(body, header);
  }
}

function ipv4Addresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((i) => i.family === 'IPv4')
    .map((i) => i.address);
}
