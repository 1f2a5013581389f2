import type { Crossing, DetectionEvent, EventKind, LineCount, ObjectClass } from '@vigil/contracts';
import type { Box } from '@vigil/geometry';

/** The rules consume the tracker's confirmed tracks (or hand-built ones in tests). */
export type { TrackedObject } from '../track/track.types';

/** A message without the delivery envelope (bootId, seq, ts) that the outbox adds. */
export type Unenveloped<T> = Omit<T, 'bootId' | 'seq' | 'ts'>;

export type EventBody = Unenveloped<DetectionEvent>;
export type LineCountBody = Unenveloped<LineCount>;
export type CrossingBody = Unenveloped<Crossing>;

/**
 * What the rules want published, in order. `kind` is the contract's topic kind (message-registry); `atMs` is the
 * frame time that produced it (the outbox may use it for the envelope's `ts`).
 */
export type RuleMessage =
  | { kind: 'event'; atMs: number; body: EventBody }
  | { kind: 'count'; atMs: number; body: LineCountBody }
  | { kind: 'crossing'; atMs: number; body: CrossingBody };

/** Ask the evidence module for a snapshot of this frame with this object boxed (on every violation start). */
export interface EvidenceRequest {
  eventId: string;
  ruleId: string;
  kind: EventKind;
  /** Time of the frame to render (the frame being processed when the violation started). */
  frameMs: number;
  trackId: number;
  objectClass: ObjectClass;
  /** Normalised box of the offending object. */
  box: Box;
}

/** Makes event and crossing ids; node:crypto randomUUID in production, a counter in tests. */
export type IdFactory = () => string;

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
