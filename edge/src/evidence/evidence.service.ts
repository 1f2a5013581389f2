import { randomUUID } from 'node:crypto';
import type { EdgeConfig, EvidenceMeta } from '@vigil/contracts';
import type { Box } from '@vigil/geometry';
import type { RawFrame } from '../detect/detector.types';
import type { EnqueueResult, OutboxItem } from '../outbox/outbox.types';
import { renderEvidence, type PrivacyZone, type RenderedEvidence } from './evidence.renderer';

export interface EvidenceCapture {
  cameraId: string;
  /** The event the snapshot documents (a violation start), or null for an operator-requested snapshot. */
  eventId: string | null;
  /** The operator's snapshot request this answers, if any. */
  requestId?: string | null;
  /** When the frame was captured. */
  capturedAt: Date;
  frame: RawFrame;
  box: Box | null;
  /** Persons in the frame (normalised); blurred unless the camera's `blurPersons` is off. */
  persons: readonly Box[];
  blurPersons: boolean;
  privacyZones: readonly PrivacyZone[];
  maxBytes?: number;
}

export interface BuiltEvidence {
  /** What an event's `evidence` field carries. */
  ref: { evidenceId: string; sha256: string };
  /** The metadata message, then the image: both sequenced, both through the outbox. */
  items: OutboxItem[];
  rendered: RenderedEvidence;
}

/** Renders the masked JPEG and builds its two outbox messages (`evidence` metadata and the `evidence/jpeg` frame). */
export async function buildEvidence(c: EvidenceCapture): Promise<BuiltEvidence> {
  const rendered = await renderEvidence({
    frame: c.frame,
    box: c.box,
    persons: c.blurPersons ? c.persons : [],
    privacyZones: c.privacyZones,
    maxBytes: c.maxBytes,
  });
  const evidenceId = randomUUID();
  const meta: Omit<EvidenceMeta, 'bootId' | 'seq' | 'ts'> = {
    evidenceId,
    eventId: c.eventId,
    requestId: c.requestId ?? null,
    capturedAt: c.capturedAt.toISOString(),
    contentType: 'image/jpeg',
    bytes: rendered.jpeg.length,
    width: rendered.width,
    height: rendered.height,
    sha256: rendered.sha256,
    box: c.box ? [c.box[0], c.box[1], c.box[2], c.box[3]] : null,
    masking: { personsBlurred: rendered.personsBlurred, privacyZones: rendered.privacyZones },
  };
  return {
    ref: { evidenceId, sha256: rendered.sha256 },
    items: [
      { kind: 'evidence', cameraId: c.cameraId, message: meta },
      {
        kind: 'evidence_jpeg',
        cameraId: c.cameraId,
        header: { evidenceId, sha256: rendered.sha256 },
        jpeg: rendered.jpeg,
      },
    ],
    rendered,
  };
}

/** A camera's masking settings from the configuration in force: its privacy zones and whether persons are blurred. */
export function privacyFor(
  config: EdgeConfig,
  cameraId: string,
): { blurPersons: boolean; privacyZones: PrivacyZone[] } {
  const camera = config.cameras.find((c) => c.id === cameraId);
  return {
    // Blurring is the default; only an explicit `false` on a known camera turns it off.
    blurPersons: camera?.blurPersons ?? true,
    privacyZones: config.zones
      .filter((z) => z.cameraId === cameraId && z.kind === 'privacy')
      .map((z) => ({ id: z.id, polygon: z.polygon })),
  };
}

/**
 * Evidence for violation starts and operator requests, delivered through the outbox. The event that references the
 * snapshot goes in the same transaction, first: either the alert and its evidence are all durable, or none is.
 */
export class EvidenceService {
  constructor(private readonly outbox: { enqueueMany(items: readonly OutboxItem[]): EnqueueResult[] }) {}

  async capture(
    c: EvidenceCapture,
    withItems: (ref: BuiltEvidence['ref']) => OutboxItem[] = () => [],
  ): Promise<BuiltEvidence & { results: EnqueueResult[] }> {
    const built = await buildEvidence(c);
    const results = this.outbox.enqueueMany([...withItems(built.ref), ...built.items]);
    return { ...built, results };
  }
}
