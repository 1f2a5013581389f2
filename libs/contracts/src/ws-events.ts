import { z } from 'zod';
import { CountSchema, IdSchema, ObjectClassSchema, TimestampSchema, UuidSchema } from './common.schema';
import { CameraStateSchema } from './edge-status.schema';
import { EventKindSchema } from './event.schema';

/**
 * Centre -> operator console WebSocket events: one typed map, one wire shape `{ "event": name, "data": payload }`.
 * A console that reconnects re-reads state over REST; `seq` on the wire lets it notice missed pushes.
 */
export const ALERT_STATES = ['open', 'acknowledged', 'assigned', 'resolved', 'false_positive'] as const;
export const AlertStateSchema = z.enum(ALERT_STATES);
export type AlertState = z.infer<typeof AlertStateSchema>;

export const AlertSchema = z.object({
  id: UuidSchema,
  /** The edge event this alert tracks (stable across start / update / end). */
  eventId: UuidSchema,
  kind: EventKindSchema,
  state: AlertStateSchema,
  siteId: IdSchema,
  nodeId: IdSchema,
  cameraId: IdSchema,
  zoneId: IdSchema,
  ruleId: IdSchema,
  objectClass: ObjectClassSchema,
  startedAt: TimestampSchema,
  endedAt: TimestampSchema.nullable(),
  dwellSeconds: z.number().min(0),
  pedestriansPresent: CountSchema.nullable(),
  evidenceId: UuidSchema.nullable(),
  assignee: z.string().max(200).nullable(),
  /** A parking violation can be exported for enforcement only after a named operator confirmed it. */
  confirmedBy: z.string().max(200).nullable(),
  updatedAt: TimestampSchema,
  /** Optimistic-concurrency version, bumped on every transition. */
  version: z.int().min(1),
});
export type Alert = z.infer<typeof AlertSchema>;

export const CameraStatusChangedSchema = z.object({
  siteId: IdSchema,
  nodeId: IdSchema,
  cameraId: IdSchema,
  state: CameraStateSchema,
  reason: z.string().max(500).nullable(),
  ts: TimestampSchema,
});

export const EdgeStatusChangedSchema = z.object({
  siteId: IdSchema,
  nodeId: IdSchema,
  state: z.enum(['online', 'offline']),
  reason: z.string().max(200).nullable(),
  configVersion: z.int().min(0).nullable(),
  ts: TimestampSchema,
});

export const WS_SERVER_EVENTS = {
  'alert.created': AlertSchema,
  'alert.updated': AlertSchema,
  'camera.status': CameraStatusChangedSchema,
  'edge.status': EdgeStatusChangedSchema,
} as const;

export type WsServerEventName = keyof typeof WS_SERVER_EVENTS;
export type WsServerEventMap = { [K in WsServerEventName]: z.infer<(typeof WS_SERVER_EVENTS)[K]> };

/** The frame actually sent: `seq` grows by one per frame on a connection. */
export type WsServerFrame = {
  [K in WsServerEventName]: { event: K; seq: number; data: WsServerEventMap[K] };
}[WsServerEventName];

const eventNames = Object.keys(WS_SERVER_EVENTS) as [WsServerEventName, ...WsServerEventName[]];

export const WsServerFrameSchema = z
  .object({ event: z.enum(eventNames), seq: z.int().min(1), data: z.unknown() })
  .transform((frame, ctx) => {
    const parsed = WS_SERVER_EVENTS[frame.event].safeParse(frame.data);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ code: 'custom', message: issue.message, path: ['data', ...issue.path] });
      }
      return z.NEVER;
    }
    return { ...frame, data: parsed.data } as WsServerFrame;
  });

export function wsFrame<K extends WsServerEventName>(event: K, seq: number, data: WsServerEventMap[K]): WsServerFrame {
  return { event, seq, data } as WsServerFrame;
}
