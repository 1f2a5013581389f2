import fc from 'fast-check';
import { CENTRE_KINDS, EDGE_CAMERA_KINDS, EDGE_NODE_KINDS, parseTopic, subscriptions, topics } from './topics';

const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,20}$/);

describe('topics', () => {
  it('builds the documented scheme', () => {
    const ref = { siteId: 'rome-centro', nodeId: 'node-1', cameraId: 'cam-north' };
    expect(topics.edgeCamera('evidence_jpeg', ref)).toBe(
      'vigil/v1/edge/rome-centro/node-1/camera/cam-north/evidence/jpeg',
    );
    expect(topics.edgeNode('config_ack', ref)).toBe('vigil/v1/edge/rome-centro/node-1/config/ack');
    expect(topics.edgeNode('delivery_gap', ref)).toBe('vigil/v1/edge/rome-centro/node-1/delivery/gap');
    expect(topics.edgeNodePrefix(ref)).toBe('vigil/v1/edge/rome-centro/node-1/');
    expect(() => topics.edgeNodePrefix({ siteId: 'a/b', nodeId: 'n' })).toThrow(TypeError);
    expect(topics.centre('commit', ref)).toBe('vigil/v1/centre/rome-centro/node-1/commit');
    expect(subscriptions.centreToNode(ref)).toBe('vigil/v1/centre/rome-centro/node-1/#');
  });

  it('round-trips every kind through build and parse', () => {
    fc.assert(
      fc.property(id, id, id, (siteId, nodeId, cameraId) => {
        for (const kind of EDGE_NODE_KINDS) {
          expect(parseTopic(topics.edgeNode(kind, { siteId, nodeId }))).toEqual({ root: 'edge', kind, siteId, nodeId });
        }
        for (const kind of EDGE_CAMERA_KINDS) {
          const t = topics.edgeCamera(kind, { siteId, nodeId, cameraId });
          expect(parseTopic(t)).toEqual({ root: 'edge', kind, siteId, nodeId, cameraId });
        }
        for (const kind of CENTRE_KINDS) {
          expect(parseTopic(topics.centre(kind, { siteId, nodeId }))).toEqual({ root: 'centre', kind, siteId, nodeId });
        }
      }),
    );
  });

  it('builds an edge topic from the kind alone: the node for node kinds, the camera for camera kinds', () => {
    const node = { siteId: 's', nodeId: 'n' };
    for (const kind of EDGE_NODE_KINDS) {
      expect(topics.edge(kind, { ...node, cameraId: 'ignored' })).toBe(topics.edgeNode(kind, node));
    }
    for (const kind of EDGE_CAMERA_KINDS) {
      expect(topics.edge(kind, { ...node, cameraId: 'c' })).toBe(topics.edgeCamera(kind, { ...node, cameraId: 'c' }));
      expect(() => topics.edge(kind, { ...node, cameraId: null })).toThrow(/need a camera id/);
      expect(() => topics.edge(kind, node)).toThrow(/need a camera id/);
    }
  });

  it.each(['a/b', 'a+', '#', '', 'x'.repeat(65), ' cam'])('refuses the id %p', (bad) => {
    expect(() => topics.edgeNode('heartbeat', { siteId: bad, nodeId: 'n' })).toThrow(/siteId/);
    expect(() => topics.edgeCamera('event', { siteId: 's', nodeId: 'n', cameraId: bad })).toThrow(/cameraId/);
  });

  it.each([
    'vigil/v1/edge/s/n',
    'vigil/v1/edge/s/n/camera/c',
    'vigil/v1/edge/s/n/camera/c/event/extra',
    'vigil/v1/edge/s/n/camera//event',
    'vigil/v1/centre/s/n/heartbeat',
    'vigil/v1/other/s/n/status',
    'frigate/events',
  ])('does not recognise %p', (t) => {
    expect(parseTopic(t)).toBeNull();
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(fc.property(fc.string(), (s) => void parseTopic(s)));
  });
});
