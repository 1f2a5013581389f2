import { buildProbe, parseProbeMatches } from './ws-discovery.client';

// Shape of a ProbeMatches as sent by an Axis/Hikvision-style camera (namespaces bound to other prefixes than ours).
const matches = (relatesTo: string, xaddrs: string, extraMatch = ''): string =>
  '<?xml version="1.0" encoding="UTF-8"?>' +
  '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" ' +
  'xmlns:wsadis="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
  'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
  '<SOAP-ENV:Header><wsadis:MessageID>urn:uuid:reply</wsadis:MessageID>' +
  `<wsadis:RelatesTo>${relatesTo}</wsadis:RelatesTo>` +
  '<wsadis:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsadis:Action></SOAP-ENV:Header>' +
  '<SOAP-ENV:Body><d:ProbeMatches><d:ProbeMatch>' +
  '<wsadis:EndpointReference><wsadis:Address>urn:uuid:cam-1</wsadis:Address></wsadis:EndpointReference>' +
  '<d:Types>dn:NetworkVideoTransmitter</d:Types>' +
  '<d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/name/Crossing%20North ' +
  'onvif://www.onvif.org/hardware/M3045 onvif://www.onvif.org/location/city/main_street</d:Scopes>' +
  `<d:XAddrs>${xaddrs}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>` +
  `</d:ProbeMatch>${extraMatch}</d:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>`;

describe('parseProbeMatches', () => {
  it('reads endpoint, XAddrs, types and the name/hardware/location scopes', () => {
    const [device] = parseProbeMatches(
      matches('urn:uuid:probe', 'http://10.0.0.5/onvif/device_service'),
      '10.0.0.5',
      'urn:uuid:probe',
    );
    expect(device).toEqual({
      endpointReference: 'urn:uuid:cam-1',
      xaddr: 'http://10.0.0.5/onvif/device_service',
      xaddrs: ['http://10.0.0.5/onvif/device_service'],
      types: ['dn:NetworkVideoTransmitter'],
      scopes: expect.arrayContaining(['onvif://www.onvif.org/type/video_encoder']),
      name: 'Crossing North',
      hardware: 'M3045',
      location: 'city/main_street',
      address: '10.0.0.5',
    });
  });

  it('prefers the XAddr on the address that answered', () => {
    const [device] = parseProbeMatches(
      matches('urn:uuid:p', 'http://169.254.3.4/onvif/device_service http://192.168.1.20:8080/onvif/device_service'),
      '192.168.1.20',
    );
    expect(device.xaddr).toBe('http://192.168.1.20:8080/onvif/device_service');
    expect(device.xaddrs).toHaveLength(2);
  });

  it('ignores answers to another probe, non-ProbeMatches messages and garbage', () => {
    expect(parseProbeMatches(matches('urn:uuid:other', 'http://h/x'), 'h', 'urn:uuid:mine')).toEqual([]);
    expect(parseProbeMatches(buildProbe('urn:uuid:x'), '10.0.0.1')).toEqual([]);
    expect(parseProbeMatches('not xml <<<', '10.0.0.1')).toEqual([]);
  });

  it('skips matches without an address or an http XAddr and keeps the others', () => {
    const second =
      '<d:ProbeMatch><wsadis:EndpointReference><wsadis:Address>urn:uuid:cam-2</wsadis:Address></wsadis:EndpointReference>' +
      '<d:XAddrs>http://10.0.0.6/onvif/device_service</d:XAddrs></d:ProbeMatch>';
    const devices = parseProbeMatches(matches('urn:uuid:p', 'ftp://nope'), '10.0.0.5');
    expect(devices).toEqual([]);
    const both = parseProbeMatches(matches('urn:uuid:p', 'http://10.0.0.5/x', second), '10.0.0.5');
    expect(both.map((d) => d.endpointReference)).toEqual(['urn:uuid:cam-1', 'urn:uuid:cam-2']);
  });
});

describe('buildProbe', () => {
  it('asks for NetworkVideoTransmitter with the given message id', () => {
    const probe = buildProbe('urn:uuid:abc');
    expect(probe).toContain('<a:MessageID>urn:uuid:abc</a:MessageID>');
    expect(probe).toContain('<d:Types>dn:NetworkVideoTransmitter</d:Types>');
    expect(probe).toContain('http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe');
  });
});
