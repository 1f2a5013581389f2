import { z } from 'zod';
import {
  CountSchema,
  DeliverySchema,
  IdSchema,
  Int8Schema,
  TextSchema,
  TimestampSchema,
  UInt4Schema,
  UuidSchema,
} from './common.schema';

/**
 * Edge node status, retained. The same shape is the MQTT last will (state `offline`, reason `connection_lost`),
 * which the broker publishes on the node's behalf: the will is fixed at connect time, so it carries the boot id
 * but no sequence number. Every status the node publishes itself is sequenced.
 */
export const NodeStatusSchema = z
  .object({
    bootId: UuidSchema,
    seq: z.int().min(1).optional(),
    ts: TimestampSchema,
    state: z.enum(['online', 'offline']),
    reason: z.enum(['started', 'shutdown', 'connection_lost']).optional(),
    /** Software version of the edge agent. */
    version: TextSchema.min(1).max(64),
    /** Version of the configuration currently in force, if any. */
    configVersion: UInt4Schema.nullable(),
    cameras: z.array(IdSchema).max(256),
  })
  .refine((s) => s.seq !== undefined || s.reason === 'connection_lost', {
    message: 'seq is required except on the last will (reason "connection_lost")',
    path: ['seq'],
  });
export type NodeStatus = z.infer<typeof NodeStatusSchema>;

export const CAMERA_STATES = ['connecting', 'streaming', 'stalled', 'failed'] as const;
export const CameraStateSchema = z.enum(CAMERA_STATES);
export type CameraState = z.infer<typeof CameraStateSchema>;

/** Camera status, retained, published on every state change. `reason` never contains credentials. */
export const CameraStatusSchema = DeliverySchema.extend({
  state: CameraStateSchema,
  reason: TextSchema.max(500).nullable(),
  /** Reconnect attempt number since the last healthy stream (0 while streaming). */
  attempt: UInt4Schema,
  /** Delay before the next reconnect attempt, when one is scheduled. */
  nextRetryMs: UInt4Schema.nullable(),
  /** Decoded frame size delivered to the detector, when streaming. */
  frameSize: z.object({ width: UInt4Schema.min(1), height: UInt4Schema.min(1) }).nullable(),
});
export type CameraStatus = z.infer<typeof CameraStatusSchema>;

const CameraHealthSchema = z.object({
  cameraId: IdSchema,
  state: CameraStateSchema,
  /** Frames analysed per second over the heartbeat period. */
  fps: z.number().min(0),
  /** Mean inference time per analysed frame. */
  inferenceMs: z.number().min(0),
  /** Frames dropped because analysis was slower than the camera (newest frame wins). */
  droppedFrames: CountSchema,
});

/** Periodic node health, sequenced. Also reports outbox pressure so the centre can alarm before data is evicted. */
export const HeartbeatSchema = DeliverySchema.extend({
  uptimeS: z.number().min(0),
  configVersion: UInt4Schema.nullable(),
  cameras: z.array(CameraHealthSchema).max(256),
  outbox: z.object({
    depth: CountSchema,
    bytes: Int8Schema.min(0),
    oldestAgeS: z.number().min(0).nullable(),
    /** Entries evicted since boot because of the byte or age bound, by message kind. Never silently zeroed. */
    evicted: z.record(TextSchema.max(64), CountSchema),
  }),
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;
