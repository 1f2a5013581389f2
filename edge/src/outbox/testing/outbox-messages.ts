import { createHash, randomUUID } from 'node:crypto';
import type { OutboxItem } from '../outbox.types';

/**
 * Realistic outbox messages for tests and the benchmark, each tagged with a number `k` the receiving side can read
 * back (track id, or uptime for heartbeats) to check "every message exactly once".
 */
export const CAMERA = 'cam-1';

const MODEL = {
  modelId: 'yolox_nano_416',
  sha256: 'c0ffee'.padEnd(64, '0'),
  scoreThreshold: 0.3,
  nmsIou: 0.45,
  classThresholds: { person: 0.4 },
  trackerId: 'bytetrack-v1',
};

export function crossingItem(k: number): OutboxItem {
  return {
    kind: 'crossing',
    cameraId: CAMERA,
    message: {
      crossingId: randomUUID(),
      lineId: 'via-nazionale-stop-line',
      trackId: k,
      objectClass: 'car',
      direction: k % 2 === 0 ? 'a_to_b' : 'b_to_a',
      at: new Date().toISOString(),
      point: [0.55, 0.625],
      score: 0.71,
    },
  };
}

export function countItem(k: number): OutboxItem {
  const end = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  return {
    kind: 'count',
    cameraId: CAMERA,
    message: {
      lineId: `line-${k}`,
      intervalStart: new Date(end.getTime() - 60_000).toISOString(),
      intervalEnd: end.toISOString(),
      counts: [
        { objectClass: 'car', direction: 'a_to_b', count: 14 },
        { objectClass: 'bus', direction: 'b_to_a', count: 1 },
        { objectClass: 'car', direction: 'b_to_a', count: 9 },
      ],
    },
  };
}

export function eventItem(k: number): OutboxItem {
  const now = new Date().toISOString();
  return {
    kind: 'event',
    cameraId: CAMERA,
    message: {
      eventId: randomUUID(),
      phase: 'start',
      kind: 'parking_violation',
      ruleId: 'no-parking-bus-stop',
      zoneId: 'bus-stop-north',
      objectClass: 'car',
      trackId: k,
      score: 0.81,
      maxScore: 0.86,
      box: [0.62, 0.08, 0.78, 0.24],
      startedAt: now,
      endedAt: null,
      endReason: null,
      dwellSeconds: 300,
      pedestriansPresent: null,
      evidence: { evidenceId: randomUUID(), sha256: 'ab'.repeat(32) },
      model: MODEL,
    },
  };
}

export function heartbeatItem(k: number): OutboxItem {
  return {
    kind: 'heartbeat',
    cameraId: null,
    message: {
      uptimeS: k,
      configVersion: 7,
      cameras: [{ cameraId: CAMERA, state: 'streaming', fps: 9.8, inferenceMs: 11.2, droppedFrames: 3 }],
      outbox: { depth: 12, bytes: 20480, oldestAgeS: 1.5, evicted: { count: 0 } },
    },
  };
}

export function cameraStatusItem(k: number): OutboxItem {
  return {
    kind: 'camera_status',
    cameraId: CAMERA,
    message: {
      state: 'streaming',
      reason: null,
      attempt: k,
      nextRetryMs: null,
      frameSize: { width: 416, height: 312 },
    },
  };
}

/** A syntactically valid JPEG-framed blob of `bytes` bytes (SOI marker + filler): the outbox only checks the marker. */
export function evidenceJpegItem(bytes: number): OutboxItem {
  const jpeg = Buffer.alloc(bytes, 0x11);
  jpeg[0] = 0xff;
  jpeg[1] = 0xd8;
  jpeg[2] = 0xff;
  return {
    kind: 'evidence_jpeg',
    cameraId: CAMERA,
    header: { evidenceId: randomUUID(), sha256: createHash('sha256').update(jpeg).digest('hex') },
    jpeg,
  };
}

/** The mix an intersection produces: mostly crossings, a count per line per minute, a few events and heartbeats. */
export function mixedItem(k: number): OutboxItem {
  if (k % 50 === 0) return heartbeatItem(k);
  if (k % 20 === 0) return eventItem(k);
  if (k % 10 === 0) return countItem(k);
  return crossingItem(k);
}

/** The `k` a message carries (see above), or null for messages without one. */
export function tagOf(message: Record<string, unknown>): number | null {
  if (typeof message.trackId === 'number') return message.trackId;
  if (typeof message.uptimeS === 'number') return message.uptimeS;
  if (typeof message.lineId === 'string' && message.lineId.startsWith('line-')) return Number(message.lineId.slice(5));
  return null;
}
