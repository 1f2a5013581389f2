import { z } from 'zod';
import { AlertSchema } from './api/alert.schema';
import { IdSchema, TimestampSchema } from './common.schema';
import { CameraStateSchema } from './edge-status.schema';

/**
 * Centre -> operator console WebSocket events: one typed map, one wire shape `{ "event": name, "data": payload }`.
 * A console that reconnects re-reads state over REST; `seq` on the wire lets it notice missed pushes.
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
