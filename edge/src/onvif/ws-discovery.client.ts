import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { XMLParser } from 'fast-xml-parser';
import { OnvifError, OnvifErrorCode } from './onvif.errors';

export const WS_DISCOVERY_GROUP = '239.255.255.250';
export const WS_DISCOVERY_PORT = 3702;

export interface DiscoveredDevice {
  /** WS-Discovery endpoint reference, usually `urn:uuid:...`: the device's stable identity. */
  endpointReference: string;
  /** The device service address to connect to (the XAddr on the responder's own IP when there is one). */
  xaddr: string;
  xaddrs: string[];
  types: string[];
  scopes: string[];
  /** From the `onvif://www.onvif.org/name/...` scope. */
  name?: string;
  /** From the `onvif://www.onvif.org/hardware/...` scope. */
  hardware?: string;
  /** From the `onvif://www.onvif.org/location/...` scope. */
  location?: string;
  /** IP address the ProbeMatches came from. */
  address: string;
}

export interface ProbeOptions {
  /** How long to collect answers; devices answer within 500 ms (WS-Discovery APP_MAX_DELAY). Default 3000. */
  timeoutMs?: number;
  /** Probe the multicast group 239.255.255.250:3702. Default true. */
  multicast?: boolean;
  /**
   * Directed probes sent by unicast, for networks where multicast does not reach the cameras (routed subnets, VPNs,
   * containers). Port defaults to 3702.
   */
  targets?: readonly { host: string; port?: number }[];
  /** Local IPv4 address to probe from (selects the interface for multicast). */
  interfaceAddress?: string;
}

const PROBE_MATCHES_ACTION = 'http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches';

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  isArray: (name) => name === 'ProbeMatch',
});

/** A WS-Discovery Probe for ONVIF video transmitters (ONVIF Core §7.3), as cameras expect it. */
export function buildProbe(messageId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ' +
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
    'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
    '<s:Header>' +
    `<a:MessageID>${messageId}</a:MessageID>` +
    '<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>' +
    '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>' +
    '</s:Header>' +
    '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body>' +
    '</s:Envelope>'
  );
}

type Obj = Record<string, unknown>;
const get = (node: unknown, key: string): unknown =>
  node !== null && typeof node === 'object' ? (node as Obj)[key] : undefined;
const str = (node: unknown): string => (typeof node === 'string' ? node.trim() : '');
const words = (node: unknown): string[] => str(node).split(/\s+/).filter(Boolean);

function hostnameOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

function scopeValue(scopes: readonly string[], key: string): string | undefined {
  const prefix = `onvif://www.onvif.org/${key}/`;
  const scope = scopes.find((s) => s.startsWith(prefix));
  if (!scope) return undefined;
  const raw = scope.slice(prefix.length);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * The devices in one ProbeMatches datagram. Answers to someone else's probe (RelatesTo differs) and anything that
 * is not a ProbeMatches are ignored, so a busy network cannot inject unrelated messages.
 */
export function parseProbeMatches(xml: string, fromAddress: string, expectedRelatesTo?: string): DiscoveredDevice[] {
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch {
    return [];
  }
  const env = get(doc, 'Envelope');
  const header = get(env, 'Header');
  const action = str(get(header, 'Action'));
  if (action && action !== PROBE_MATCHES_ACTION) return [];
  const relatesTo = str(get(header, 'RelatesTo'));
  if (expectedRelatesTo && relatesTo && relatesTo !== expectedRelatesTo) return [];
  const matches = get(get(get(env, 'Body'), 'ProbeMatches'), 'ProbeMatch');
  if (!Array.isArray(matches)) return [];
  const devices: DiscoveredDevice[] = [];
  for (const match of matches) {
    const endpointReference = str(get(get(match, 'EndpointReference'), 'Address'));
    const xaddrs = words(get(match, 'XAddrs')).filter((x) => /^https?:\/\//i.test(x));
    if (!endpointReference || xaddrs.length === 0) continue;
    const scopes = words(get(match, 'Scopes'));
    // Prefer the XAddr on the address that answered, as a multi-homed camera lists one per interface.
    const xaddr = xaddrs.find((x) => hostnameOf(x) === fromAddress) ?? xaddrs[0];
    devices.push({
      endpointReference,
      xaddr,
      xaddrs,
      types: words(get(match, 'Types')),
      scopes,
      name: scopeValue(scopes, 'name'),
      hardware: scopeValue(scopes, 'hardware'),
      location: scopeValue(scopes, 'location'),
      address: fromAddress,
    });
  }
  return devices;
}

/**
 * WS-Discovery probe of the local network (multicast) and/or of given addresses (unicast), collecting ProbeMatches
 * until the timeout. Devices are deduplicated by endpoint reference.
 *
 * Written on dgram rather than `onvif`'s Discovery: that one is a process-wide singleton that emits unhandled 'error'
 * events on stray datagrams, cannot send directed probes, and cannot filter by RelatesTo.
 */
export async function discoverOnvifDevices(options: ProbeOptions = {}): Promise<DiscoveredDevice[]> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const destinations: { host: string; port: number }[] = [];
  if (options.multicast !== false) destinations.push({ host: WS_DISCOVERY_GROUP, port: WS_DISCOVERY_PORT });
  for (const t of options.targets ?? []) destinations.push({ host: t.host, port: t.port ?? WS_DISCOVERY_PORT });
  if (destinations.length === 0) {
    throw new OnvifError(OnvifErrorCode.DISCOVERY_FAILED, 'nothing to probe: multicast is off and no target given');
  }

  const messageId = `urn:uuid:${randomUUID()}`;
  const probe = Buffer.from(buildProbe(messageId), 'utf8');
  const socket = dgram.createSocket('udp4');
  const found = new Map<string, DiscoveredDevice>();
  socket.on('message', (msg, rinfo) => {
    for (const device of parseProbeMatches(msg.toString('utf8'), rinfo.address, messageId)) {
      if (!found.has(device.endpointReference)) found.set(device.endpointReference, device);
    }
  });

  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, options.interfaceAddress, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    socket.close();
    throw new OnvifError(OnvifErrorCode.DISCOVERY_FAILED, `cannot open a UDP socket: ${(err as Error).message}`);
  }
  // Socket errors after bind (e.g. ICMP port unreachable from a directed target) must not end the probe.
  socket.on('error', () => undefined);
  if (options.interfaceAddress) socket.setMulticastInterface(options.interfaceAddress);

  const send = (d: { host: string; port: number }): Promise<boolean> =>
    new Promise((resolve) => socket.send(probe, d.port, d.host, (err) => resolve(!err)));
  const failures: string[] = [];
  const sent = await Promise.all(destinations.map(send));
  destinations.forEach((d, i) => !sent[i] && failures.push(`${d.host}:${d.port}`));
  if (!sent.some(Boolean)) {
    socket.close();
    throw new OnvifError(OnvifErrorCode.DISCOVERY_FAILED, `cannot send a probe to ${failures.join(', ')}`);
  }
  // UDP may drop the probe; WS-Discovery repeats it once (devices answer a message id once).
  const repeat = setTimeout(
    () => destinations.forEach((d, i) => sent[i] && void send(d)),
    Math.min(250, timeoutMs / 4),
  );
  await new Promise((resolve) => setTimeout(resolve, timeoutMs));
  clearTimeout(repeat);
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return [...found.values()];
}
