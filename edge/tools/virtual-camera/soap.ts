import { XMLParser } from 'fast-xml-parser';

/** XML namespaces of SOAP 1.2, WS-Addressing / WS-Discovery (the 2004/2005 drafts ONVIF uses) and ONVIF. */
export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  wsd: 'http://schemas.xmlsoap.org/ws/2005/04/discovery',
  dn: 'http://www.onvif.org/ver10/network/wsdl',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  ter: 'http://www.onvif.org/ver10/error',
} as const;

// Tag values stay strings (a nonce or a user name must never turn into a number); prefixes are dropped because
// clients bind the same namespaces to different prefixes.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
});

export type XmlNode = Record<string, unknown>;

export function parseXml(xml: string): XmlNode {
  return parser.parse(xml) as XmlNode;
}

export function xmlEscape(value: string | number | boolean): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Child element of a parsed node, or undefined when the node is not an element. */
export function child(node: unknown, name: string): unknown {
  return node !== null && typeof node === 'object' ? (node as XmlNode)[name] : undefined;
}

/** Text content of a parsed element, whether it carries attributes (`{ '#text': ... }`) or not. */
export function text(node: unknown): string | undefined {
  if (typeof node === 'string') return node;
  if (node !== null && typeof node === 'object') {
    const value = (node as XmlNode)['#text'];
    if (typeof value === 'string') return value;
  }
  return undefined;
}

export function attr(node: unknown, name: string): string | undefined {
  const value = child(node, `@_${name}`);
  return typeof value === 'string' ? value : undefined;
}

/** A SOAP 1.2 envelope declaring every prefix the responses use. */
export function envelope(body: string, header = ''): string {
  const ns = Object.entries(NS)
    .map(([prefix, uri]) => `xmlns:${prefix === 'soap' ? 's' : prefix}="${uri}"`)
    .join(' ');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope ${ns}>` +
    (header ? `<s:Header>${header}</s:Header>` : '') +
    `<s:Body>${body}</s:Body></s:Envelope>`
  );
}

export interface SoapFault {
  /** env:Sender for a bad request (HTTP 400), env:Receiver for a device-side failure (HTTP 500). */
  code: 'Sender' | 'Receiver';
  /** ONVIF subcodes from the outermost in, e.g. ['ter:InvalidArgVal', 'ter:NoProfile']. */
  subcodes: readonly string[];
  reason: string;
  detail?: string;
}

export function faultEnvelope(fault: SoapFault): string {
  let subcode = '';
  for (const value of [...fault.subcodes].reverse()) {
    subcode = `<s:Subcode><s:Value>${value}</s:Value>${subcode}</s:Subcode>`;
  }
  return envelope(
    '<s:Fault>' +
      `<s:Code><s:Value>s:${fault.code}</s:Value>${subcode}</s:Code>` +
      `<s:Reason><s:Text xml:lang="en">${xmlEscape(fault.reason)}</s:Text></s:Reason>` +
      (fault.detail ? `<s:Detail><s:Text>${xmlEscape(fault.detail)}</s:Text></s:Detail>` : '') +
      '</s:Fault>',
  );
}
