import { AlertsSinceRequestSchema, AlertsSinceResponseSchema, WsServerFrameSchema, wsFrame } from './ws-events';

const alert = {
  id: '1042',
  siteId: 'rome-centro',
  nodeId: 'node-via-nazionale',
  cameraId: 'cam-north',
  kind: 'parking_violation',
  severity: 'medium',
  source: '9c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f',
  violationState: 'update',
  state: 'new',
  assignee: null,
  confirmedBy: null,
  confirmedAt: null,
  version: 1,
  openedAt: '2026-11-21T08:10:30.000Z',
  clearedAt: null,
  createdAt: '2026-11-21T08:10:30.400Z',
  updatedAt: '2026-11-21T08:15:30.000Z',
  details: { zoneId: 'bus-stop-north', ruleId: 'no-parking-bus-stop', dwellSeconds: 300 },
} as const;

describe('WebSocket event map', () => {
  it('accepts a typed frame and returns its payload typed', () => {
    const frame = WsServerFrameSchema.parse(JSON.parse(JSON.stringify(wsFrame('alert.created', 1, alert))));
    expect(frame.event).toBe('alert.created');
    if (frame.event === 'alert.created') expect(frame.data.source).toBe('9c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f');
  });

  it('rejects an unknown event name', () => {
    const r = WsServerFrameSchema.safeParse({ event: 'alert.deleted', seq: 1, data: alert });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].path).toEqual(['event']);
  });

  it('validates the payload against the event it names, with the field path under data', () => {
    const r = WsServerFrameSchema.safeParse({ event: 'camera.status', seq: 2, data: { ...alert } });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toContain('data.state');
  });

  it('rejects an alert in an unknown state', () => {
    const r = WsServerFrameSchema.safeParse({ event: 'alert.updated', seq: 3, data: { ...alert, state: 'deleted' } });
    expect(r.error?.issues[0].path).toEqual(['data', 'state']);
  });
});

describe('alerts.since (console -> centre)', () => {
  it('takes the last id held (or null) and an optional limit up to 500', () => {
    expect(AlertsSinceRequestSchema.parse({ after: '1042' })).toEqual({ after: '1042' });
    expect(AlertsSinceRequestSchema.parse({ after: null, limit: 500 })).toEqual({ after: null, limit: 500 });
  });

  it.each([
    [{}, 'after'],
    [{ after: 'abc' }, 'after'],
    [{ after: '-1' }, 'after'],
    [{ after: '1', limit: 501 }, 'limit'],
    [{ after: '1', limit: 0 }, 'limit'],
    [{ after: '1', since: '2' }, ''],
  ])('refuses %j', (body, path) => {
    const r = AlertsSinceRequestSchema.safeParse(body);
    expect(r.success).toBe(false);
    expect(r.error!.issues[0].path.join('.')).toBe(path);
  });

  it('answers alerts (the pushed shape) or an error', () => {
    expect(AlertsSinceResponseSchema.safeParse({ items: [alert], more: false }).success).toBe(true);
    expect(AlertsSinceResponseSchema.safeParse({ error: { code: 'FORBIDDEN', message: 'no' } }).success).toBe(true);
    expect(AlertsSinceResponseSchema.safeParse({ items: [{ ...alert, id: 'x' }], more: false }).success).toBe(false);
  });
});
