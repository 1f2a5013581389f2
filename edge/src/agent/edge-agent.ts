import type { CameraConfig, EdgeConfig, ModelProvenance, ObjectClass, SnapshotRequest } from '@vigil/contracts';
import type { Logger } from 'pino';
import type { CaptureStatus } from '../capture/capture.types';
import { ConfigStore, initialConfig } from '../config/config-store';
import type { Detector } from '../detect/detector';
import { detectorSessionsFor } from '../detect/inference-threads';
import { WorkerDetector } from '../detect/worker-detector';
import { loadManifest, resolveModelsDir } from '../detect/model-manifest.loader';
import { EvidenceService, privacyFor } from '../evidence/evidence.service';
import { EdgeDelivery } from '../outbox/edge-delivery.service';
import type { OutboxItem } from '../outbox/outbox.types';
import { RulesEngine } from '../rules/rules-engine';
import type { EvidenceRequest, RuleMessage } from '../rules/rules.types';
import { ByteTracker, DEFAULT_BYTE_TRACKER_OPTIONS } from '../track';
import { CameraPipeline, type AnalysedFrame, type CameraCredentials } from './camera-pipeline';
import { readSecret, type EdgeSettings } from './edge-settings';

export const EDGE_VERSION = '0.1.0';

const round1 = (x: number) => Math.round(x * 10) / 10;

interface CameraRuntime {
  config: CameraConfig;
  pipeline: CameraPipeline;
  tracker: ByteTracker;
  engine: RulesEngine;
  lastMs: number;
  lastState: CaptureStatus['state'] | null;
  /** The newest analysed frame, for operator snapshot requests. */
  lastFrame: AnalysedFrame | null;
  /** Frames analysed and inference time since the last heartbeat. */
  window: { frames: number; inferenceMs: number; since: number };
}

/**
 * The edge agent: one detector shared by the node's cameras, and per camera the pipeline capture → detect → track →
 * rules, whose messages go into the durable outbox (delivered to the centre until it confirms the commit). The
 * configuration comes from the settings file or the centre (retained topic), is validated, persisted, applied without
 * restarting unchanged cameras, and acknowledged.
 */
export class EdgeAgent {
  private readonly cameras = new Map<string, CameraRuntime>();
  private detector: WorkerDetector | null = null;
  private config: EdgeConfig | null = null;
  private timers: NodeJS.Timeout[] = [];
  private applying: Promise<void> = Promise.resolve();
  private readonly store: ConfigStore;
  private readonly delivery: EdgeDelivery;
  private readonly evidence: EvidenceService;
  private readonly startedAt = Date.now();

  constructor(
    private readonly settings: EdgeSettings,
    private readonly logger: Logger,
  ) {
    this.store = new ConfigStore(settings.dataDir);
    const broker = settings.broker;
    if (!broker) throw new Error('settings: broker is required (the outbox delivers to it)');
    this.delivery = EdgeDelivery.open({
      mqtt: {
        url: broker.url,
        username: broker.username,
        password: broker.password ? readSecret(broker.password, 'broker.password') : undefined,
        protocolVersion: broker.protocolVersion,
        version: EDGE_VERSION,
        configVersion: null,
        cameras: [],
      },
      outbox: { dir: settings.dataDir, node: settings.node },
      onConfig: (config) => this.enqueueApply(config),
      onConfigRejected: (version, errors) => this.ack(version, errors),
      onSnapshot: (request) => void this.snapshot(request),
      logger: logger.child({ c: 'delivery' }),
    });
    this.evidence = new EvidenceService(this.delivery);
  }

  get bootId(): string {
    return this.delivery.bootId;
  }

  get configVersion(): number | null {
    return this.config?.version ?? null;
  }

  async start(): Promise<void> {
    const last = this.store.load();
    if (last.problem) this.logger.warn({ problem: last.problem }, 'ignoring stored configuration');
    const first = initialConfig(this.settings.config, last.config);
    await this.delivery.start();
    if (first) await this.apply(first, { ack: false });
    else this.logger.warn('no configuration yet: waiting for the centre');
    this.timers.push(
      setInterval(() => this.heartbeat(), this.settings.heartbeatSeconds * 1000),
      // Count intervals close on time even when a camera delivers no frames.
      setInterval(() => this.tickRules(), 5000),
    );
    if (this.settings.summarySeconds > 0) {
      this.timers.push(setInterval(() => this.logSummary(), this.settings.summarySeconds * 1000));
    }
    for (const t of this.timers) t.unref();
  }

  private enqueueApply(config: EdgeConfig): void {
    this.applying = this.applying.then(() => this.apply(config, { ack: true }));
  }

  /** Applies a configuration; on failure the previous one stays in force and the ack says why. */
  private async apply(config: EdgeConfig, opts: { ack: boolean }): Promise<void> {
    if (this.config && config.version < this.config.version) {
      this.logger.info({ version: config.version, current: this.config.version }, 'ignoring older configuration');
      return;
    }
    if (this.config && config.version === this.config.version) {
      if (opts.ack) this.ack(config.version, []);
      return;
    }
    try {
      await this.reconfigure(config);
      this.config = config;
      this.store.save(config);
      this.logger.info({ version: config.version, cameras: config.cameras.length }, 'configuration applied');
      if (opts.ack) this.ack(config.version, []);
    } catch (err) {
      const message = (err as Error).message;
      this.logger.warn({ version: config.version, err: message }, 'configuration rejected');
      if (opts.ack) this.ack(config.version, [{ path: '', message }]);
    }
  }

  private ack(configVersion: number, errors: { path: string; message: string }[]): void {
    this.delivery.enqueue({
      kind: 'config_ack',
      cameraId: null,
      message: { configVersion, status: errors.length ? 'rejected' : 'applied', errors },
    });
  }

  private credentialsFor(camera: CameraConfig): CameraCredentials | undefined {
    if (!camera.credentialsRef) return undefined;
    const c = this.settings.credentials[camera.credentialsRef];
    if (!c) throw new Error(`camera ${camera.id}: no credentials named "${camera.credentialsRef}" on this edge`);
    return { username: c.username, password: readSecret(c.password, `credentials.${camera.credentialsRef}`) };
  }

  private provenance(config: EdgeConfig, detector: Detector): ModelProvenance {
    return {
      modelId: detector.provenance.modelId,
      sha256: detector.provenance.sha256,
      scoreThreshold: config.detection.scoreThreshold,
      nmsIou: detector.provenance.nmsIou,
      classThresholds: config.detection.classThresholds,
      trackerId: 'bytetrack-v1',
    };
  }

  /** Everything that can fail is checked before anything changes, so a bad config leaves the running one intact. */
  private async reconfigure(config: EdgeConfig): Promise<void> {
    const creds = new Map(config.cameras.filter((c) => c.enabled).map((c) => [c.id, this.credentialsFor(c)]));
    let detector = this.detector;
    const modelChanged = !detector || detector.manifest.id !== config.detection.modelId;
    if (modelChanged) {
      const manifest = loadManifest(config.detection.modelId);
      detector = await WorkerDetector.load(
        manifest,
        this.settings.modelsDir ?? resolveModelsDir(),
        {
          // The tracker's second stage needs low-score detections; the config's threshold gates new tracks.
          scoreThreshold: DEFAULT_BYTE_TRACKER_OPTIONS.lowScore,
          nmsIou: config.detection.nmsIou,
          threads: { intraOpNumThreads: this.settings.detector.intraOpNumThreads },
        },
        this.settings.detector.sessions ?? 1,
      );
      this.logger.info(
        { model: manifest.id, sessions: detector.sessionCount, warmInferenceMs: round1(detector.warmInferenceMs) },
        'detector loaded',
      );
      detector.onSessionLost((err) => this.logger.error({ err: err.message }, 'detector session lost: replacing it'));
    }
    const now = Date.now();
    const wanted = new Map(config.cameras.filter((c) => c.enabled).map((c) => [c.id, c]));
    for (const [id, rt] of this.cameras) {
      const next = wanted.get(id);
      const restart =
        !next ||
        modelChanged ||
        JSON.stringify(next.source) !== JSON.stringify(rt.config.source) ||
        next.detectFps !== rt.config.detectFps ||
        next.credentialsRef !== rt.config.credentialsRef;
      if (restart) {
        this.emit(id, rt.engine.shutdown(Math.max(now, rt.lastMs)).messages);
        await rt.pipeline.stop();
        this.cameras.delete(id);
      } else {
        rt.config = next;
        rt.engine.setModel(this.provenance(config, detector!));
        this.emit(id, rt.engine.applyConfig(config, Math.max(now, rt.lastMs)).messages);
      }
    }
    if (modelChanged && this.detector) await this.detector.close();
    this.detector = detector;
    for (const [id, camera] of wanted) {
      if (!this.cameras.has(id)) this.startCamera(camera, config, creds.get(id), detector!);
    }
    await this.sizeDetector(detector!, [...wanted.values()]);
  }

  /**
   * Unless configured, as many detector sessions as the cameras' detection rate needs at the model's warm-up
   * inference time (one per core at most). A session that fails to start leaves the running ones serving.
   */
  private async sizeDetector(detector: WorkerDetector, cameras: CameraConfig[]): Promise<void> {
    const wanted =
      this.settings.detector.sessions ??
      detectorSessionsFor(
        cameras.map((c) => c.detectFps),
        detector.warmInferenceMs,
        this.settings.detector.intraOpNumThreads,
      );
    if (wanted === detector.sessionCount) return;
    try {
      await detector.resize(wanted);
      this.logger.info(
        { sessions: wanted, warmInferenceMs: round1(detector.warmInferenceMs), cameras: cameras.length },
        'detector sessions',
      );
    } catch (err) {
      this.logger.warn({ sessions: wanted, err: (err as Error).message }, 'could not resize the detector');
    }
  }

  private startCamera(
    camera: CameraConfig,
    config: EdgeConfig,
    credentials: CameraCredentials | undefined,
    detector: Detector,
  ) {
    const log = this.logger.child({ camera: camera.id });
    const rt: CameraRuntime = {
      config: camera,
      tracker: new ByteTracker({ highScore: config.detection.scoreThreshold }),
      engine: new RulesEngine(config, { cameraId: camera.id, model: this.provenance(config, detector) }),
      lastMs: 0,
      lastState: null,
      lastFrame: null,
      window: { frames: 0, inferenceMs: 0, since: Date.now() },
      pipeline: new CameraPipeline({
        camera,
        credentials,
        detector,
        logger: log,
        onStatus: (s) => this.onCameraStatus(rt, s),
        onFrame: (f) => this.onFrame(rt, f),
      }),
    };
    this.cameras.set(camera.id, rt);
    rt.pipeline.start();
  }

  private onCameraStatus(rt: CameraRuntime, s: CaptureStatus): void {
    // Publish changes of state (and every failure, whose reason and retry delay matter), not every counter tick.
    if (s.state === rt.lastState && s.state === 'streaming') return;
    rt.lastState = s.state;
    this.delivery.enqueue({
      kind: 'camera_status',
      cameraId: rt.config.id,
      message: {
        state: s.state,
        reason: s.reason,
        attempt: s.attempt,
        nextRetryMs: s.nextRetryMs,
        frameSize: s.frameSize,
        ts: new Date(s.at).toISOString(),
      },
    });
  }

  private onFrame(rt: CameraRuntime, f: AnalysedFrame): void {
    // Rules need monotonic time; a wall-clock step backwards (NTP) must not break them.
    const t = Math.max(rt.lastMs, f.frame.capturedAt);
    rt.lastMs = t;
    rt.lastFrame = f;
    rt.window.frames++;
    rt.window.inferenceMs += f.inferenceMs;
    const tracks = rt.tracker.update(f.detections, t);
    const out = rt.engine.process(tracks, t);
    // A violation start waits for its snapshot, so that the alert and its evidence become durable together.
    const wanted = new Map(out.evidence.map((r) => [r.eventId, r]));
    const starts = new Map<string, RuleMessage>();
    const now: RuleMessage[] = [];
    for (const m of out.messages) {
      if (m.kind === 'event' && m.body.phase === 'start' && wanted.has(m.body.eventId)) starts.set(m.body.eventId, m);
      else now.push(m);
    }
    this.emit(rt.config.id, now);
    for (const [eventId, start] of starts) void this.captureEvidence(rt, f, wanted.get(eventId)!, start);
  }

  /** An operator asked for a picture: the newest analysed frame, masked like any evidence. */
  private async snapshot(request: SnapshotRequest): Promise<void> {
    const rt = this.cameras.get(request.cameraId);
    const f = rt?.lastFrame;
    if (!rt || !f) {
      this.logger.warn(
        { camera: request.cameraId, requestId: request.requestId },
        'snapshot: no frame from that camera',
      );
      return;
    }
    try {
      await this.evidence.capture({
        cameraId: rt.config.id,
        eventId: null,
        requestId: request.requestId,
        capturedAt: new Date(f.frame.capturedAt),
        frame: f.frame,
        box: null,
        persons: f.detections.filter((d) => d.cls === 'person').map((d) => d.box),
        ...privacyFor(this.config!, rt.config.id),
      });
      this.logger.info(
        { camera: rt.config.id, requestId: request.requestId, by: request.requestedBy },
        'snapshot sent',
      );
    } catch (err) {
      this.logger.error({ camera: rt.config.id, err: (err as Error).message }, 'snapshot failed');
    }
  }

  private async captureEvidence(rt: CameraRuntime, f: AnalysedFrame, req: EvidenceRequest, start: RuleMessage) {
    const cameraId = rt.config.id;
    try {
      await this.evidence
        .capture(
          {
            cameraId,
            eventId: req.eventId,
            capturedAt: new Date(req.frameMs),
            frame: f.frame,
            box: req.box,
            persons: f.detections.filter((d) => d.cls === 'person').map((d) => d.box),
            ...privacyFor(this.config!, cameraId),
          },
          (ref) => [this.toItem(cameraId, { ...start, body: { ...start.body, evidence: ref } } as RuleMessage)],
        )
        .then(({ ref }) => rt.engine.attachEvidence(req.eventId, ref));
    } catch (err) {
      // The alert matters more than its picture: send it without evidence rather than not at all.
      this.logger.error({ camera: cameraId, eventId: req.eventId, err: (err as Error).message }, 'evidence failed');
      this.emit(cameraId, [start]);
    }
  }

  private toItem(cameraId: string, m: RuleMessage): OutboxItem {
    return { kind: m.kind, cameraId, message: { ...m.body, ts: new Date(m.atMs).toISOString() } } as OutboxItem;
  }

  private emit(cameraId: string, messages: readonly RuleMessage[]): void {
    if (messages.length === 0) return;
    this.delivery.enqueueMany(messages.map((m) => this.toItem(cameraId, m)));
  }

  private tickRules(): void {
    const now = Date.now();
    for (const rt of this.cameras.values()) {
      const t = Math.max(rt.lastMs, now);
      rt.lastMs = t;
      this.emit(rt.config.id, rt.engine.tick(t).messages);
    }
  }

  private heartbeat(): void {
    const now = Date.now();
    const cameras = [...this.cameras.values()].map((rt) => {
      const seconds = Math.max(0.001, (now - rt.window.since) / 1000);
      const entry = {
        cameraId: rt.config.id,
        state: rt.lastState ?? 'connecting',
        fps: rt.window.frames / seconds,
        inferenceMs: rt.window.frames ? rt.window.inferenceMs / rt.window.frames : 0,
        droppedFrames: rt.pipeline.stats.droppedFrames,
      };
      rt.window = { frames: 0, inferenceMs: 0, since: now };
      return entry;
    });
    this.delivery.enqueue({
      kind: 'heartbeat',
      cameraId: null,
      message: {
        uptimeS: (now - this.startedAt) / 1000,
        configVersion: this.configVersion,
        cameras,
        outbox: this.delivery.heartbeatOutbox(),
      },
    });
  }

  private logSummary(): void {
    for (const rt of this.cameras.values()) {
      const s = rt.pipeline.stats;
      const byClass: Partial<Record<ObjectClass, number>> = {};
      for (const d of s.lastDetections) byClass[d.cls] = (byClass[d.cls] ?? 0) + 1;
      this.logger.info(
        {
          camera: rt.config.id,
          state: rt.lastState,
          framesAnalysed: s.framesAnalysed,
          meanInferenceMs: s.framesAnalysed ? +(s.inferenceMsTotal / s.framesAnalysed).toFixed(1) : null,
          droppedFrames: s.droppedFrames,
          lastFrame: byClass,
          activeViolations: rt.engine.activeViolations().length,
        },
        'detection summary',
      );
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.applying;
    const now = Date.now();
    for (const [id, rt] of this.cameras) {
      await rt.pipeline.stop();
      this.emit(id, rt.engine.shutdown(Math.max(now, rt.lastMs)).messages);
    }
    this.cameras.clear();
    await this.delivery.stop();
    await this.detector?.close();
  }
}
