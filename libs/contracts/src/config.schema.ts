import { z } from 'zod';
import {
  DeliverySchema,
  IdSchema,
  ObjectClassSchema,
  PointSchema,
  ScoreSchema,
  TextSchema,
  TimestampSchema,
  UInt4Schema,
  VEHICLE_CLASSES,
} from './common.schema';
import { DIRECTIONS } from './count.schema';
import { configGeometryIssues } from './config-geometry';

/** An RTSP/ONVIF URL must not embed credentials: those live on the edge and are named by `credentialsRef`. */
const UrlWithoutUserinfo = z
  .string()
  .max(2048)
  .refine((u) => URL.canParse(u), 'must be a valid URL')
  .refine((u) => !URL.canParse(u) || (new URL(u).username === '' && new URL(u).password === ''), {
    message: 'must not contain credentials; use credentialsRef',
  });

export const CameraSourceSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('rtsp'),
    url: UrlWithoutUserinfo.refine((u) => /^rtsps?:\/\//.test(u), 'must be an rtsp:// or rtsps:// URL'),
    transport: z.enum(['tcp', 'udp']).default('tcp'),
  }),
  z.object({
    kind: z.literal('onvif'),
    xaddr: UrlWithoutUserinfo,
    /** Media profile whose stream feeds detection; when absent the edge picks the one closest above the model
     *  input size. A token the camera does not offer is reported in the camera's status (the camera retries). */
    profileToken: z.string().min(1).max(128).optional(),
    transport: z.enum(['tcp', 'udp']).default('tcp'),
  }),
  z.object({ kind: z.literal('file'), path: z.string().min(1).max(1024), loop: z.boolean().default(false) }),
]);
export type CameraSource = z.infer<typeof CameraSourceSchema>;

export const CameraConfigSchema = z.object({
  id: IdSchema,
  name: z.string().min(1).max(200),
  enabled: z.boolean().default(true),
  source: CameraSourceSchema,
  /** Name of a credential held by the edge (never the secret itself). */
  credentialsRef: IdSchema.optional(),
  /** Frames analysed per second. */
  detectFps: z.number().positive().max(30).default(10),
  /** Blur persons in evidence images (GDPR default: on). */
  blurPersons: z.boolean().default(true),
});
export type CameraConfig = z.infer<typeof CameraConfigSchema>;

export const ZONE_KINDS = ['no_parking', 'crosswalk', 'sidewalk', 'lane', 'privacy'] as const;
export const ZoneKindSchema = z.enum(ZONE_KINDS);
export type ZoneKind = z.infer<typeof ZoneKindSchema>;

export const ZoneConfigSchema = z.object({
  id: IdSchema,
  cameraId: IdSchema,
  name: z.string().min(1).max(200),
  kind: ZoneKindSchema,
  /** Normalised vertices, at least three, simple (not self-intersecting). */
  polygon: z.array(PointSchema).min(3, 'a zone needs at least 3 points').max(64),
});
export type ZoneConfig = z.infer<typeof ZoneConfigSchema>;

export const LineConfigSchema = z.object({
  id: IdSchema,
  cameraId: IdSchema,
  name: z.string().min(1).max(200),
  /** The counting segment, drawn from `start` to `end`; side A lies to the left of that arrow. */
  start: PointSchema,
  end: PointSchema,
  /** Human labels of the two crossing directions, e.g. { a_to_b: "southbound", b_to_a: "northbound" }. */
  directions: z.object(
    Object.fromEntries(DIRECTIONS.map((d) => [d, z.string().min(1).max(100)])) as Record<
      (typeof DIRECTIONS)[number],
      z.ZodString
    >,
  ),
  classes: z.array(ObjectClassSchema).min(1).optional(),
});
export type LineConfig = z.infer<typeof LineConfigSchema>;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const HhMm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');

/** When a rule is active, in the camera's local time zone. `to` earlier than `from` spans midnight. */
export const ScheduleSchema = z.object({
  timezone: z.string().refine((tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone, e.g. Europe/Rome'),
  windows: z
    .array(
      z
        .object({ days: z.array(z.enum(WEEKDAYS)).min(1), from: HhMm, to: HhMm })
        .refine((w) => w.from !== w.to, { message: 'from and to must differ', path: ['to'] }),
    )
    .min(1),
});
export type Schedule = z.infer<typeof ScheduleSchema>;

const DwellSchema = z.number().positive('dwell must be > 0 seconds').max(86_400);
const vehicleClasses = () => [...VEHICLE_CLASSES];

export const RuleConfigSchema = z.discriminatedUnion('kind', [
  z.object({
    id: IdSchema,
    kind: z.literal('parking_violation'),
    zoneId: IdSchema,
    dwellSeconds: DwellSchema,
    classes: z.array(ObjectClassSchema).min(1).default(vehicleClasses),
    /** Active schedule; null means always. */
    schedule: ScheduleSchema.nullable().default(null),
    /** Lane zone whose congestion means "queue, not parking" (a queue at a red light is not parking). */
    queueLaneZoneId: IdSchema.nullable().default(null),
  }),
  z.object({
    id: IdSchema,
    kind: z.literal('pedestrian_blocking'),
    zoneId: IdSchema,
    dwellSeconds: DwellSchema,
    classes: z.array(ObjectClassSchema).min(1).default(vehicleClasses),
    schedule: ScheduleSchema.nullable().default(null),
  }),
  z.object({
    id: IdSchema,
    kind: z.literal('line_count'),
    lineId: IdSchema,
    /** Length of the aggregation interval for count messages. */
    intervalSeconds: z.int().min(10).max(3600).default(60),
    /** Also publish one record per crossing. */
    crossings: z.boolean().default(true),
  }),
]);
export type RuleConfig = z.infer<typeof RuleConfigSchema>;

/**
 * The lowest score a configuration can set. The edge's detector always reports detections down to this score and its
 * tracker keeps tracks alive with them (ByteTrack's low-score stage), so a threshold below it could never be in force.
 */
export const MIN_DETECTION_SCORE = 0.1;
const DetectionScoreSchema = z.number().min(MIN_DETECTION_SCORE).max(1);

/** A model id: a manifest's name in the edge's models folder (never a path). */
export const ModelIdSchema = z
  .string()
  .max(128)
  .regex(/^[a-z0-9][a-z0-9_]*$/, 'must be a model id: lowercase letters, digits and "_"');

export const DetectionSettingsSchema = z.object({
  modelId: ModelIdSchema,
  /**
   * Score from which a detection can start or firmly continue a track (ByteTrack's track threshold). Weaker
   * detections (down to MIN_DETECTION_SCORE) only keep existing tracks alive, so the detector itself runs at that
   * floor. Applied live (no camera restarts).
   */
  scoreThreshold: DetectionScoreSchema.default(0.5),
  /** IoU above which the detector suppresses overlapping boxes. Applied live. */
  nmsIou: ScoreSchema.default(0.45),
  /** Per-class `scoreThreshold`; a class not listed uses `scoreThreshold`. Applied live. */
  classThresholds: z.partialRecord(ObjectClassSchema, DetectionScoreSchema).default({}),
});

/** Centre -> edge, retained. The edge validates, persists, applies without restarting capture, and acknowledges. */
export const EdgeConfigSchema = z
  .object({
    /** Monotonic per node; an edge ignores a version lower than the one in force. */
    version: z.int().min(1),
    issuedAt: TimestampSchema,
    detection: DetectionSettingsSchema,
    cameras: z.array(CameraConfigSchema).max(32),
    zones: z.array(ZoneConfigSchema).max(512).default([]),
    lines: z.array(LineConfigSchema).max(256).default([]),
    rules: z.array(RuleConfigSchema).max(512).default([]),
  })
  .superRefine((cfg, ctx) => {
    for (const issue of configReferenceIssues(cfg)) ctx.addIssue({ code: 'custom', ...issue });
    for (const issue of configGeometryIssues(cfg)) ctx.addIssue({ code: 'custom', ...issue });
  });
export type EdgeConfig = z.infer<typeof EdgeConfigSchema>;
export type EdgeConfigInput = z.input<typeof EdgeConfigSchema>;

interface RefIssue {
  path: (string | number)[];
  message: string;
}

function duplicates(items: { id: string }[], field: string): RefIssue[] {
  const seen = new Set<string>();
  return items.flatMap((it, i) => {
    if (seen.has(it.id)) return [{ path: [field, i, 'id'], message: `duplicate id "${it.id}"` }];
    seen.add(it.id);
    return [];
  });
}

const RULE_ZONE_KINDS: Record<'parking_violation' | 'pedestrian_blocking', readonly string[]> = {
  parking_violation: ['no_parking'],
  pedestrian_blocking: ['crosswalk', 'sidewalk'],
};

/** Cross-references: ids unique, every zone/line on a known camera, every rule on a zone/line of the right kind. */
function configReferenceIssues(cfg: Pick<EdgeConfig, 'cameras' | 'zones' | 'lines' | 'rules'>): RefIssue[] {
  const issues = [
    ...duplicates(cfg.cameras, 'cameras'),
    ...duplicates(cfg.zones, 'zones'),
    ...duplicates(cfg.lines, 'lines'),
    ...duplicates(cfg.rules, 'rules'),
  ];
  const cameras = new Set(cfg.cameras.map((c) => c.id));
  const zones = new Map(cfg.zones.map((z) => [z.id, z]));
  const lines = new Set(cfg.lines.map((l) => l.id));
  cfg.zones.forEach((z, i) => {
    if (!cameras.has(z.cameraId))
      issues.push({ path: ['zones', i, 'cameraId'], message: `unknown camera "${z.cameraId}"` });
  });
  cfg.lines.forEach((l, i) => {
    if (!cameras.has(l.cameraId))
      issues.push({ path: ['lines', i, 'cameraId'], message: `unknown camera "${l.cameraId}"` });
  });
  cfg.rules.forEach((r, i) => {
    if (r.kind === 'line_count') {
      if (!lines.has(r.lineId)) issues.push({ path: ['rules', i, 'lineId'], message: `unknown line "${r.lineId}"` });
      return;
    }
    const zone = zones.get(r.zoneId);
    if (!zone) {
      issues.push({ path: ['rules', i, 'zoneId'], message: `unknown zone "${r.zoneId}"` });
    } else if (!RULE_ZONE_KINDS[r.kind].includes(zone.kind)) {
      issues.push({
        path: ['rules', i, 'zoneId'],
        message: `${r.kind} needs a zone of kind ${RULE_ZONE_KINDS[r.kind].join(' or ')}, "${zone.id}" is ${zone.kind}`,
      });
    }
    if (r.kind === 'parking_violation' && r.queueLaneZoneId !== null) {
      const lane = zones.get(r.queueLaneZoneId);
      if (!lane || lane.kind !== 'lane') {
        issues.push({ path: ['rules', i, 'queueLaneZoneId'], message: `"${r.queueLaneZoneId}" is not a lane zone` });
      } else if (zone && lane.cameraId !== zone.cameraId) {
        issues.push({ path: ['rules', i, 'queueLaneZoneId'], message: 'lane zone must be on the same camera' });
      }
    }
  });
  return issues;
}

/** Limits of a config ack's error list (the edge clips what it sends to them). */
export const CONFIG_ACK_LIMITS = { errors: 100, path: 200, message: 500 } as const;

/** Edge -> centre: the outcome of applying a configuration version. */
export const ConfigAckSchema = DeliverySchema.extend({
  configVersion: UInt4Schema.min(1),
  status: z.enum(['applied', 'rejected']),
  /** Why the configuration was rejected; the previous configuration stays in force. */
  errors: z
    .array(
      z.object({
        path: TextSchema.max(CONFIG_ACK_LIMITS.path),
        message: TextSchema.max(CONFIG_ACK_LIMITS.message),
      }),
    )
    .max(CONFIG_ACK_LIMITS.errors),
}).refine((a) => (a.status === 'rejected') === a.errors.length > 0, {
  message: 'a rejected config must list errors, an applied one none',
  path: ['errors'],
});
export type ConfigAck = z.infer<typeof ConfigAckSchema>;
