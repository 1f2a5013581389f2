import { z } from 'zod';
import { AlertSchema } from './api/alert.schema';
import { CursorSchema } from './api/pagination.schema';
import { IdSchema, TimestampSchema } from './common.schema';
import { CameraStateSchema } from './edge-status.schema';

/**
 * Centre <-> operator console WebSocket events (socket.io namespace `/live`). Server events: one typed map, one wire
 * shape: the socket.io event named `name` carries the frame `{ "event": name, "seq": n, "data": payload }`. A console
 * that reconnects asks `alerts.since` for every alert after the last id it holds (nothing missed, nothing twice).
 */
// The alert pushed is the REST API's alert (one shape for list, detail and push).

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

/**
 * The frame actually sent. `seq` grows by one per frame sent by one centre instance (frames are broadcast to rooms,
 * several replicas may send): order and gaps are read from alert ids, through `alerts.since`.
 */
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

/** Catch-up page size (the alert list's own maximum). */
export const WS_SINCE_MAX = 500;

/** `alerts.since` request: alerts of the caller's sites with an id greater than `after` (null: from the first). */
export const AlertsSinceRequestSchema = z.strictObject({
  after: CursorSchema.nullable(),
  limit: z.int().min(1).max(WS_SINCE_MAX).optional(),
});

/** `alerts.since` acknowledgement: ids ascending; `more` = ask again after the last id. */
export const AlertsSinceResponseSchema = z.union([
  z.object({ items: z.array(AlertSchema), more: z.boolean() }),
  z.object({ error: z.object({ code: z.string(), message: z.string() }) }),
]);

/** Console -> centre events (each answered through the socket.io acknowledgement callback). */
export const WS_CLIENT_EVENTS = {
  'alerts.since': { request: AlertsSinceRequestSchema, response: AlertsSinceResponseSchema },
} as const;

export type WsClientEventName = keyof typeof WS_CLIENT_EVENTS;
export type AlertsSinceRequest = z.infer<typeof AlertsSinceRequestSchema>;
export type AlertsSinceResponse = z.infer<typeof AlertsSinceResponseSchema>;

/** Why the handshake was refused (`connect_error`'s message). */
export const WS_UNAUTHENTICATED = 'UNAUTHENTICATED';
