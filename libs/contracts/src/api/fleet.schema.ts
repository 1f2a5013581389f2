import { z } from 'zod';
import { IdSchema, TimestampSchema, UuidSchema } from '../common.schema';
import { CameraStateSchema } from '../edge-status.schema';
import type { Role } from './role.schema';

/**
 * The console's health panel: every edge node of the caller's sites and its cameras, as the centre last heard them
 * (status, heartbeats) with the system alerts still open on each. Read from stored messages, never from the edge.
 */

/** Who may see the health panel and ask a camera for a snapshot ("look now"). */
export const FLEET_READ_ROLES: readonly Role[] = ['admin', 'operator', 'auditor'];
export const SNAPSHOT_ROLES: readonly Role[] = ['admin', 'operator'];

export const FleetCameraSchema = z.object({
  cameraId: IdSchema,
  /** Last reported stream state; null when the camera never reported one. */
  state: CameraStateSchema.nullable(),
  reason: z.string().nullable(),
  /** When `state` was reported (edge time). */
  stateSince: TimestampSchema.nullable(),
  /** Analysed frames per second in the latest heartbeat; null when no heartbeat mentions the camera. */
  fps: z.number().min(0).nullable(),
  inferenceMs: z.number().min(0).nullable(),
  frameSize: z.object({ width: z.int().min(1), height: z.int().min(1) }).nullable(),
  /** Open system alerts about this camera (camera_down). */
  openSystemAlerts: z.int().min(0),
});
export type FleetCamera = z.infer<typeof FleetCameraSchema>;

export const FleetNodeSchema = z.object({
  siteId: IdSchema,
  nodeId: IdSchema,
  /** `unknown`: heartbeats seen but no status message yet. */
  state: z.enum(['online', 'offline', 'unknown']),
  reason: z.string().nullable(),
  version: z.string().nullable(),
  configVersion: z.int().min(0).nullable(),
  /** Newest of the node's status and heartbeat times (edge time). */
  lastSeenAt: TimestampSchema.nullable(),
  /** From the latest heartbeat; null before the first one. */
  outbox: z
    .object({
      depth: z.int().min(0),
      bytes: z.number().min(0),
      oldestAgeS: z.number().min(0).nullable(),
      evictedTotal: z.number().min(0),
    })
    .nullable(),
  cameras: z.array(FleetCameraSchema),
  /** Open system alerts about the node or any of its cameras (node_offline, camera_down, outbox_eviction, delivery_loss). */
  openSystemAlerts: z.int().min(0),
});
export type FleetNode = z.infer<typeof FleetNodeSchema>;

/** `GET /api/fleet`: nodes of the caller's sites, ordered by site then node. */
export const FleetResponseSchema = z.object({ nodes: z.array(FleetNodeSchema), generatedAt: TimestampSchema });
export type FleetResponse = z.infer<typeof FleetResponseSchema>;

/** Path of `POST /api/fleet/:siteId/:nodeId/cameras/:cameraId/snapshot`. */
export const CameraPathSchema = z.strictObject({ siteId: IdSchema, nodeId: IdSchema, cameraId: IdSchema });
export type CameraPath = z.infer<typeof CameraPathSchema>;

/** How long the centre waits for the edge's masked snapshot before answering 504 `UPSTREAM_TIMEOUT`. */
export const SNAPSHOT_TIMEOUT_MS = 10_000;

/**
 * Answer of "look now": the edge's masked snapshot is stored as evidence like any other; the console shows it
 * through `GET /api/evidence/:evidenceId` (so the view is recorded like every evidence view).
 */
export const SnapshotResponseSchema = z.object({
  requestId: UuidSchema,
  evidenceId: UuidSchema,
  capturedAt: TimestampSchema,
  width: z.int().min(1),
  height: z.int().min(1),
});
export type SnapshotResponse = z.infer<typeof SnapshotResponseSchema>;
