import { MESSAGE_MAPPING_METADATA, MESSAGE_METADATA } from '@nestjs/websockets/constants';
import { WS_CLIENT_EVENTS, WS_SERVER_EVENTS } from '@vigil/contracts';
import { PushGateway, WS_EVENT_POLICY } from './push.gateway';

/** The events a gateway class handles (its `@SubscribeMessage` names). */
function handledEvents(gateway: new (...args: never[]) => unknown): string[] {
  const proto = gateway.prototype as Record<string, unknown>;
  return Object.getOwnPropertyNames(proto)
    .map((name) => proto[name])
    .filter((fn) => typeof fn === 'function' && Reflect.getMetadata(MESSAGE_MAPPING_METADATA, fn) === true)
    .map((fn) => Reflect.getMetadata(MESSAGE_METADATA, fn as object) as string);
}

describe('WebSocket event policy', () => {
  it('handles exactly the client events of the contracts, each with a role policy', () => {
    const handled = handledEvents(PushGateway).sort();
    expect(handled).toEqual(Object.keys(WS_CLIENT_EVENTS).sort());
    for (const event of handled) expect(WS_EVENT_POLICY).toHaveProperty([event]);
  });

  it('gives every event of the contracts an explicit policy; analysts receive and ask for no alert', () => {
    const events = [...Object.keys(WS_SERVER_EVENTS), ...Object.keys(WS_CLIENT_EVENTS)].sort();
    expect(Object.keys(WS_EVENT_POLICY).sort()).toEqual(events);
    for (const event of ['alert.created', 'alert.updated', 'alerts.since'] as const) {
      expect(WS_EVENT_POLICY[event]).not.toContain('traffic_analyst');
      expect(WS_EVENT_POLICY[event]).toEqual(expect.arrayContaining(['admin', 'operator', 'auditor']));
    }
    // One set of rooms carries both alert events: their audiences must be the same.
    expect(WS_EVENT_POLICY['alert.updated']).toEqual(WS_EVENT_POLICY['alert.created']);
  });
});
