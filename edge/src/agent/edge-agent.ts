import {
  MIN_DETECTION_SCORE,
  type CameraConfig,
  type EdgeConfig,
  type Heartbeat,
  type ModelProvenance,
  type ObjectClass,
  type SnapshotRequest,
} from '@vigil/contracts';
import type { Logger } from 'pino';

import { ConfigStore, initialConfig } from '../config/config-store';
import { checkIou, type Detector } from '../detect/detector';
import { DetectorError } from '../detect/detector.errors';
import type { DetectorOptions } from '../detect/detector.types';
import { detectorSessionsFor } from '../detect/inference-threads';
import { manifestsDir, resolveModelsDir } from '../detect/model-manifest.loader';
import type { ModelManifest } from '../detect/model-manifest.schema';
import { WorkerDetector } from '../detect/worker-detector';
import { EvidenceService } from '../evidence/evidence.service';
import { EdgeDelivery } from '../outbox/edge-delivery.service';
import type { EnqueueResult, OutboxItem } from '../outbox/outbox.types';
import { CameraAnalysis, provenanceFor } from './camera-analysis';
import { CameraPipeline, type CameraCredentials, type OpenCapture, type OutboxPort } from './camera-pipeline';
import { systemClock, type Clock } from './clock';
import { readSecret, type EdgeSettings } from './edge-settings';
import { chooseModel } from './model-policy';
import { clipAckErrors, type AckError } from './report-limits';

export const EDGE_VERSION = '0.1.0';

const round1 = (x: number) => Math.round(x * 10) / 10;

/** What the agent needs of a detector beyond detection: the pool's size and live settings (WorkerDetector). */
export interface AgentDetector extends Detector {
  readonly sessionCount: number;
  readonly warmInferenceMs: number;
  resize(sessions: number): Promise<void>;
  onSessionLost(listener: (err: Error) => void): void;
  setNmsIou(iou: number): void;
}

/** The delivery path as the agent uses it (EdgeDelivery). */
export interface DeliveryPort extends OutboxPort {
  enqueue(item: OutboxItem): EnqueueResult;
  enqueueMany(items: readonly OutboxItem[]): EnqueueResult[];
  readonly bootId: string;
  start(): Promise<void>;
  stop(): Promise<unknown>;
  heartbeatOutbox(): Heartbeat['outbox'];
}

/** What the delivery path calls back with. */
export interface DeliveryHandlers {
  onConfig(config: EdgeConfig): void;
  onConfigRejected(version: number, errors: AckError[]): void;
  onSnapshot(request: SnapshotRequest): void;
}

/** The agent's collaborators; production defaults, replaced in tests. */
export interface EdgeAgentDeps {
  clock: Clock;
  openDelivery: (handlers: DeliveryHandlers) => DeliveryPort;
  loadDetector: (
    manifest: ModelManifest,
    modelsDir: string,
    options: DetectorOptions,
    sessions: number,
  ) => Promise<AgentDetector>;
  /** Frame sources (FrameCapture by default). */
  openCapture?: OpenCapture;
  /** Folder of the model manifests (the repository's models/ by default). */
  manifestsDir: string;
}

/** A configuration that cannot be applied, with the field it is about (for the ack). */
class ConfigProblem extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** Everything a configuration needs, built and checked while the running one is untouched. */
interface Plan {
  config: EdgeConfig;
  detector: AgentDetector;
  /** The detector was loaded for this plan (the current one goes once its cameras have stopped). */
  detectorIsNew: boolean;
  model: ModelProvenance;
  stop: CameraPipeline[];
  keep: CameraPipeline[];
  start: CameraPipeline[];
}

/**
 * The edge agent: configuration, lifecycle and heartbeat. One detector is shared by the node's cameras; each camera
 * is a CameraPipeline (capture → detect → track → rules → evidence → outbox). A configuration (settings file or the
 * centre's retained topic) is applied atomically: the model, tracker and rule options and every camera's runtime are
 * built and checked before anything running is stopped; on failure nothing changes and the ack says why. Thresholds
 * apply live, without restarting a camera.
 */
export class EdgeAgent {
  private readonly cameras = new Map<string, CameraPipeline>();
  private detector: AgentDetector | null = null;
  private config: EdgeConfig | null = null;
  private timers: NodeJS.Timeout[] = [];
  private applying: Promise<void> = Promise.resolve();
  private readonly store: ConfigStore;
  private readonly delivery: DeliveryPort;
  private readonly evidence: EvidenceService;
  private readonly deps: EdgeAgentDeps;
  private readonly startedAtMono: number;

  constructor(
    private readonly settings: EdgeSettings,
    private readonly logger: Logger,
    deps: Partial<EdgeAgentDeps> = {},
  ) {
    this.deps = {
      clock: systemClock,
      openDelivery: (handlers) => this.openDelivery(handlers),
      loadDetector: (manifest, dir, options, sessions) => WorkerDetector.load(manifest, dir, options, sessions),
      manifestsDir: manifestsDir(),
      ...deps,
    };
    this.startedAtMono = this.deps.clock.monoMs();
    this.store = new ConfigStore(settings.dataDir);
    this.delivery = this.deps.openDelivery({
      onConfig: (config) => void this.receiveConfig(config),
      onConfigRejected: (version, errors) => this.ack(version, errors),
      onSnapshot: (request) => void this.snapshot(request),
    });
    this.evidence = new EvidenceService(this.delivery);
  }

  private openDelivery(handlers: DeliveryHandlers): DeliveryPort {
    const broker = this.settings.broker;
    if (!broker) throw new Error('settings: broker is required (the outbox delivers to it)');
    return EdgeDelivery.open({
      mqtt: {
        url: broker.url,
        username: broker.username,
        password: broker.password ? readSecret(broker.password, 'broker.password') : undefined,
        protocolVersion: broker.protocolVersion,
        version: EDGE_VERSION,
        configVersion: null,
        cameras: [],
      },
      outbox: { dir: this.settings.dataDir, node: this.settings.node },
      ...handlers,
      logger: this.logger.child({ c: 'delivery' }),
    });
  }

  get bootId(): string {
    return this.delivery.bootId;
  }

  get configVersion(): number | null {
    return this.config?.version ?? null;
  }

  /** Ids of the cameras running now. */
  get runningCameras(): string[] {
    return [...this.cameras.keys()];
  }

  /** A running camera's pipeline (diagnostics and tests). */
  pipeline(cameraId: string): CameraPipeline | undefined {
    return this.cameras.get(cameraId);
  }

  async start(): Promise<void> {
    const last = this.store.load();
    if (last.problem) this.logger.warn({ problem: last.problem }, 'ignoring stored configuration');
    const first = initialConfig(this.settings.config, last.config);
    await this.delivery.start();
    if (first) await this.enqueueApply(first, false);
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

  /** A configuration from the centre: applied after any still being applied, then acknowledged. */
  receiveConfig(config: EdgeConfig): Promise<void> {
    return this.enqueueApply(config, true);
  }

  private enqueueApply(config: EdgeConfig, ack: boolean): Promise<void> {
    // One apply at a time, and whatever happens to one, the next still runs.
    this.applying = this.applying
      .then(() => this.apply(config, { ack }))
      .catch((err: Error) =>
        this.logger.error({ version: config.version, err: err.message }, 'configuration apply failed'),
      );
    return this.applying;
  }

  /** Applies a configuration; on failure the previous one stays in force, untouched, and the ack says so. */
  private async apply(config: EdgeConfig, opts: { ack: boolean }): Promise<void> {
    if (this.config && config.version < this.config.version) {
      this.logger.info({ version: config.version, current: this.config.version }, 'ignoring older configuration');
      return;
    }
    if (this.config && config.version === this.config.version) {
      if (opts.ack) this.ack(config.version, []);
      return;
    }
    let plan: Plan;
    try {
      plan = await this.prepare(config);
    } catch (err) {
      const path = err instanceof ConfigProblem ? err.path : '';
      const current = this.config
        ? `configuration ${this.config.version} stays in force`
        : 'no configuration is in force';
      const message = `not applied, nothing changed (${current}): ${(err as Error).message}`;
      this.logger.warn({ version: config.version, path, err: (err as Error).message }, 'configuration rejected');
      if (opts.ack) this.ack(config.version, [{ path, message }]);
      return;
    }
    await this.commit(plan);
    this.config = config;
    try {
      this.store.save(config);
    } catch (err) {
      this.logger.error(
        { version: config.version, err: (err as Error).message },
        'could not persist the configuration',
      );
    }
    this.logger.info(
      { version: config.version, cameras: this.runningCameras, model: plan.model },
      'configuration applied',
    );
    if (opts.ack) this.ack(config.version, []);
  }

  /** Never throws: an ack that cannot be stored is logged, and the next configuration is not affected. */
  private ack(configVersion: number, errors: AckError[]): void {
    try {
      this.delivery.enqueue({
        kind: 'config_ack',
        cameraId: null,
        message: { configVersion, status: errors.length ? 'rejected' : 'applied', errors: clipAckErrors(errors) },
      });
    } catch (err) {
      this.logger.error({ version: configVersion, err: (err as Error).message }, 'could not store the config ack');
    }
  }

  private credentialsFor(camera: CameraConfig, index: number): CameraCredentials | undefined {
    if (!camera.credentialsRef) return undefined;
    const c = this.settings.credentials[camera.credentialsRef];
    if (!c) {
      throw new ConfigProblem(
        `cameras.${index}.credentialsRef`,
        `camera ${camera.id}: no credentials named "${camera.credentialsRef}" on this edge`,
      );
    }
    try {
      return { username: c.username, password: readSecret(c.password, `credentials.${camera.credentialsRef}`) };
    } catch (err) {
      throw new ConfigProblem(`cameras.${index}.credentialsRef`, (err as Error).message);
    }
  }

  private needsRestart(running: CameraPipeline, next: CameraConfig | undefined, modelChanged: boolean): boolean {
    const now = running.camera;
    return (
      !next ||
      modelChanged ||
      JSON.stringify(next.source) !== JSON.stringify(now.source) ||
      next.detectFps !== now.detectFps ||
      next.credentialsRef !== now.credentialsRef
    );
  }

  /**
   * Builds and checks everything the configuration needs, cheapest first, without touching what runs: the model
   * (an id, allowed on this edge, loaded and warmed when it changes), credentials, tracker and rule options for every
   * camera, and the pipelines of the cameras to (re)start. Throws, having released what it built, on any failure.
   */
  private async prepare(config: EdgeConfig): Promise<Plan> {
    const { detection } = config;
    let manifest: ModelManifest;
    try {
      const choice = chooseModel(detection.modelId, this.settings.allowNonShippableModels, this.deps.manifestsDir);
      manifest = choice.manifest;
      if (choice.allowedBecause) {
        this.logger.warn(
          { model: manifest.id, licence: manifest.licence, because: choice.allowedBecause },
          'non-shippable model allowed on this edge',
        );
      }
    } catch (err) {
      if (err instanceof DetectorError)
        this.logger.warn({ model: detection.modelId, err: err.message }, 'model refused');
      throw new ConfigProblem('detection.modelId', (err as Error).message);
    }
    const enabled = config.cameras.map((c, i) => ({ c, i })).filter(({ c }) => c.enabled);
    const creds = new Map(enabled.map(({ c, i }) => [c.id, this.credentialsFor(c, i)]));
    try {
      checkIou(detection.nmsIou);
    } catch (err) {
      throw new ConfigProblem('detection.nmsIou', (err as Error).message);
    }

    const modelChanged = !this.detector || this.detector.manifest.id !== manifest.id;
    const wanted = new Map(enabled.map(({ c }) => [c.id, c]));
    const stop: CameraPipeline[] = [];
    const keep: CameraPipeline[] = [];
    for (const [id, running] of this.cameras) {
      if (this.needsRestart(running, wanted.get(id), modelChanged)) stop.push(running);
      else keep.push(running);
    }
    // Tracker and rules for every camera, with the provenance they would carry: throws before any model loads.
    const identity = modelChanged
      ? { modelId: manifest.id, sha256: manifest.sha256, nmsIou: detection.nmsIou }
      : { ...this.detector!.provenance, nmsIou: detection.nmsIou };
    for (const id of wanted.keys()) {
      try {
        CameraAnalysis.check({ cameraId: id, config, model: provenanceFor(identity, detection) });
      } catch (err) {
        throw new ConfigProblem('detection', `camera ${id}: ${(err as Error).message}`);
      }
    }

    let detector = this.detector!;
    if (modelChanged) {
      try {
        detector = await this.loadDetector(manifest, config);
      } catch (err) {
        throw new ConfigProblem(
          'detection.modelId',
          `model "${manifest.id}" failed to load: ${(err as Error).message}`,
        );
      }
    }
    const model = provenanceFor({ ...detector.provenance, nmsIou: detection.nmsIou }, detection);
    const start: CameraPipeline[] = [];
    try {
      const restarting = new Set(stop.map((p) => p.cameraId));
      for (const [id, camera] of wanted) {
        if (this.cameras.has(id) && !restarting.has(id)) continue;
        start.push(
          new CameraPipeline({
            camera,
            config,
            credentials: creds.get(id),
            detector,
            model,
            clock: this.deps.clock,
            outbox: this.delivery,
            evidence: this.evidence,
            logger: this.logger.child({ camera: id }),
            openCapture: this.deps.openCapture,
          }),
        );
      }
    } catch (err) {
      if (modelChanged) await detector.close();
      throw new ConfigProblem('', (err as Error).message);
    }
    return { config, detector, detectorIsNew: modelChanged, model, stop, keep, start };
  }

  private async loadDetector(manifest: ModelManifest, config: EdgeConfig): Promise<AgentDetector> {
    // The tracker needs detections down to the floor (its low-score stage); the configuration's thresholds are the
    // tracker's, applied live. Every class at the floor, so a manifest's own per-class threshold cannot hide what a
    // configuration asks for.
    const floor = Object.fromEntries(Object.values(manifest.classMap).map((c) => [c, MIN_DETECTION_SCORE])) as Partial<
      Record<ObjectClass, number>
    >;
    const detector = await this.deps.loadDetector(
      manifest,
      this.settings.modelsDir ?? resolveModelsDir(),
      {
        scoreThreshold: MIN_DETECTION_SCORE,
        classThresholds: floor,
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
    return detector;
  }

  /**
   * Puts a prepared plan in force. Cameras that go are stopped first (each flushes its rules after its last frame),
   * the previous detector is released once nothing uses it, kept cameras take the new thresholds, rules and
   * provenance in place, and new cameras start.
   */
  private async commit(plan: Plan): Promise<void> {
    // Nothing here is expected to throw (everything was built and checked); if something does, the rest still runs.
    for (const p of plan.stop) {
      await p
        .stop()
        .catch((err: Error) => this.logger.error({ camera: p.cameraId, err: err.message }, 'camera stop failed'));
      this.cameras.delete(p.cameraId);
    }
    if (plan.detectorIsNew) {
      const previous = this.detector;
      this.detector = plan.detector;
      await previous?.close();
    } else if (plan.detector.provenance.nmsIou !== plan.model.nmsIou) {
      plan.detector.setNmsIou(plan.model.nmsIou);
    }
    for (const p of plan.keep) {
      try {
        p.reconfigure(plan.config, plan.model);
      } catch (err) {
        this.logger.error({ camera: p.cameraId, err: (err as Error).message }, 'camera reconfiguration failed');
      }
    }
    for (const p of plan.start) {
      this.cameras.set(p.cameraId, p);
      p.start();
    }
    await this.sizeDetector(
      plan.detector,
      [...this.cameras.values()].map((p) => p.camera),
    );
  }

  /**
   * Unless configured, as many detector sessions as the cameras' detection rate needs at the model's warm-up
   * inference time (one per core at most). A session that fails to start leaves the running ones serving.
   */
  private async sizeDetector(detector: AgentDetector, cameras: CameraConfig[]): Promise<void> {
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

  /** An operator asked for a picture: the newest analysed frame, masked like any evidence. */
  private async snapshot(request: SnapshotRequest): Promise<void> {
    const p = this.cameras.get(request.cameraId);
    try {
      if (!p || !(await p.snapshot(request))) {
        this.logger.warn(
          { camera: request.cameraId, requestId: request.requestId },
          'snapshot: no frame from that camera',
        );
        return;
      }
      this.logger.info(
        { camera: request.cameraId, requestId: request.requestId, by: request.requestedBy },
        'snapshot sent',
      );
    } catch (err) {
      this.logger.error({ camera: request.cameraId, err: (err as Error).message }, 'snapshot failed');
    }
  }

  private tickRules(): void {
    for (const p of this.cameras.values()) {
      try {
        p.tick();
      } catch (err) {
        this.logger.error({ camera: p.cameraId, err: (err as Error).message }, 'rules tick failed');
      }
    }
  }

  private heartbeat(): void {
    try {
      this.delivery.enqueue({
        kind: 'heartbeat',
        cameraId: null,
        message: {
          uptimeS: (this.deps.clock.monoMs() - this.startedAtMono) / 1000,
          configVersion: this.configVersion,
          cameras: [...this.cameras.values()].map((p) => p.heartbeatEntry()),
          outbox: this.delivery.heartbeatOutbox(),
        },
      });
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'heartbeat failed');
    }
  }

  private logSummary(): void {
    for (const p of this.cameras.values()) {
      const s = p.stats;
      const byClass: Partial<Record<ObjectClass, number>> = {};
      for (const d of s.lastDetections) byClass[d.cls] = (byClass[d.cls] ?? 0) + 1;
      this.logger.info(
        {
          camera: p.cameraId,
          state: p.state,
          framesAnalysed: s.framesAnalysed,
          meanInferenceMs: s.framesAnalysed ? +(s.inferenceMsTotal / s.framesAnalysed).toFixed(1) : null,
          droppedFrames: s.droppedFrames,
          lastFrame: byClass,
          activeViolations: p.activeViolations,
        },
        'detection summary',
      );
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.applying;
    for (const p of this.cameras.values()) await p.stop();
    this.cameras.clear();
    await this.delivery.stop();
    await this.detector?.close();
  }
}
