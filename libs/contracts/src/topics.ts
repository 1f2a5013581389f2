import { IdSchema } from './common.schema';

/**
 * Topic scheme, version 1. Two roots so broker ACLs stay simple: an edge node may publish only under
 * `vigil/v1/edge/<site>/<node>/#` and read only `vigil/v1/centre/<site>/<node>/#`. The centre takes the
 * device identity (site, node, camera) from the topic and never from the payload.
 */
export const TOPIC_ROOT = 'vigil/v1';
export const EDGE_ROOT = `${TOPIC_ROOT}/edge`;
export const CENTRE_ROOT = `${TOPIC_ROOT}/centre`;

/** Messages an edge node publishes, by kind. Node-level kinds have no camera segment. */
export const EDGE_NODE_KINDS = ['node_status', 'heartbeat', 'config_ack', 'delivery_gap', 'batch'] as const;
export const EDGE_CAMERA_KINDS = ['camera_status', 'event', 'count', 'crossing', 'evidence', 'evidence_jpeg'] as const;
export const CENTRE_KINDS = ['config', 'commit', 'replay', 'snapshot'] as const;

export type EdgeNodeKind = (typeof EDGE_NODE_KINDS)[number];
export type EdgeCameraKind = (typeof EDGE_CAMERA_KINDS)[number];
export type EdgeKind = EdgeNodeKind | EdgeCameraKind;
export type CentreKind = (typeof CENTRE_KINDS)[number];
export type TopicKind = EdgeKind | CentreKind;

const NODE_SUFFIX: Record<EdgeNodeKind, string> = {
  node_status: 'status',
  heartbeat: 'heartbeat',
  config_ack: 'config/ack',
  delivery_gap: 'delivery/gap',
  batch: 'batch',
};
const CAMERA_SUFFIX: Record<EdgeCameraKind, string> = {
  camera_status: 'status',
  event: 'event',
  count: 'count',
  crossing: 'crossing',
  evidence: 'evidence',
  evidence_jpeg: 'evidence/jpeg',
};
const CENTRE_SUFFIX: Record<CentreKind, string> = {
  config: 'config',
  commit: 'commit',
  replay: 'replay',
  snapshot: 'snapshot',
};

export interface NodeRef {
  siteId: string;
  nodeId: string;
}
export interface CameraRef extends NodeRef {
  cameraId: string;
}

export type ParsedTopic =
  | ({ root: 'edge'; kind: EdgeNodeKind } & NodeRef)
  | ({ root: 'edge'; kind: EdgeCameraKind } & CameraRef)
  | ({ root: 'centre'; kind: CentreKind } & NodeRef);

export function isEdgeNodeKind(kind: string): kind is EdgeNodeKind {
  return (EDGE_NODE_KINDS as readonly string[]).includes(kind);
}

function checkId(name: string, value: string): string {
  const r = IdSchema.safeParse(value);
  if (!r.success) throw new TypeError(`${name} "${value}" ${r.error.issues[0]?.message ?? 'is invalid'}`);
  return value;
}

function nodePrefix(root: string, ref: NodeRef): string {
  return `${root}/${checkId('siteId', ref.siteId)}/${checkId('nodeId', ref.nodeId)}`;
}

/** Topic builders. They throw on ids that would break the topic tree (a "/" or a wildcard in an id). */
export const topics = {
  /** `vigil/v1/edge/<site>/<node>/`: what every topic of one edge node starts with (a batch entry's topic follows). */
  edgeNodePrefix(ref: NodeRef): string {
    return `${nodePrefix(EDGE_ROOT, ref)}/`;
  },
  edgeNode(kind: EdgeNodeKind, ref: NodeRef): string {
    return `${nodePrefix(EDGE_ROOT, ref)}/${NODE_SUFFIX[kind]}`;
  },
  edgeCamera(kind: EdgeCameraKind, ref: CameraRef): string {
    return `${nodePrefix(EDGE_ROOT, ref)}/camera/${checkId('cameraId', ref.cameraId)}/${CAMERA_SUFFIX[kind]}`;
  },
  centre(kind: CentreKind, ref: NodeRef): string {
    return `${nodePrefix(CENTRE_ROOT, ref)}/${CENTRE_SUFFIX[kind]}`;
  },
  /**
   * An edge message's topic from its kind alone (outbox entries, stored items): the node's topic for a node-level
   * kind, the camera's for a camera kind, which then needs `cameraId`.
   */
  edge(kind: EdgeKind, ref: NodeRef & { cameraId?: string | null }): string {
    if (isEdgeNodeKind(kind)) return topics.edgeNode(kind, ref);
    if (ref.cameraId === undefined || ref.cameraId === null) throw new TypeError(`${kind} messages need a camera id`);
    return topics.edgeCamera(kind, { siteId: ref.siteId, nodeId: ref.nodeId, cameraId: ref.cameraId });
  },
};

/** Subscription filters. The centre hears every edge; an edge hears only what the centre sends to it. */
export const subscriptions = {
  /** Everything every edge publishes. */
  allEdges: `${EDGE_ROOT}/#`,
  /** What one edge node must subscribe to (config, commit acknowledgements, replay requests). */
  centreToNode(ref: NodeRef): string {
    return `${nodePrefix(CENTRE_ROOT, ref)}/#`;
  },
  /** Everything a given edge node may publish (the broker ACL for that node's identity). */
  fromNode(ref: NodeRef): string {
    return `${nodePrefix(EDGE_ROOT, ref)}/#`;
  },
};

const NODE_BY_SUFFIX = invert(NODE_SUFFIX);
const CAMERA_BY_SUFFIX = invert(CAMERA_SUFFIX);
const CENTRE_BY_SUFFIX = invert(CENTRE_SUFFIX);

function invert<K extends string>(m: Record<K, string>): Map<string, K> {
  return new Map(Object.entries(m).map(([k, v]) => [v as string, k as K]));
}

function validId(value: string | undefined): value is string {
  return value !== undefined && IdSchema.safeParse(value).success;
}

/**
 * Valid topics already parsed: a deployment has a bounded set (sites x nodes x cameras x kinds), and every entry of
 * a `batch` names its topic again. Results are frozen, so sharing them is safe.
 */
const parsed = new Map<string, ParsedTopic>();
const PARSED_TOPICS_KEPT = 10_000;

/** Parses a concrete topic into its kind and ids; `null` for anything that is not a v1 Vigil topic. */
export function parseTopic(topic: string): ParsedTopic | null {
  const known = parsed.get(topic);
  if (known) return known;
  const result = parseTopicUncached(topic);
  if (result) {
    // Only valid topics are remembered (a flood of junk topics cannot grow it), and only so many of them.
    if (parsed.size >= PARSED_TOPICS_KEPT) parsed.clear();
    parsed.set(topic, Object.freeze(result));
  }
  return result;
}

function parseTopicUncached(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length < 5 || parts[0] !== 'vigil' || parts[1] !== 'v1') return null;
  const [, , root, siteId, nodeId, ...rest] = parts;
  if (!validId(siteId) || !validId(nodeId)) return null;
  const suffix = rest.join('/');
  if (root === 'centre') {
    const kind = CENTRE_BY_SUFFIX.get(suffix);
    return kind ? { root, kind, siteId, nodeId } : null;
  }
  if (root !== 'edge') return null;
  if (rest[0] === 'camera') {
    const cameraId = rest[1];
    const kind = CAMERA_BY_SUFFIX.get(rest.slice(2).join('/'));
    return kind && validId(cameraId) ? { root, kind, siteId, nodeId, cameraId } : null;
  }
  const kind = NODE_BY_SUFFIX.get(suffix);
  return kind ? { root, kind, siteId, nodeId } : null;
}
