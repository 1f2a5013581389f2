import { DetectionEventSchema, LineCountSchema, type EdgeConfig } from '@vigil/contracts';
import type { Box } from '@vigil/geometry';

import type { Detection } from '../detect/detector.types';
import type { EventBody, RuleMessage } from '../rules/rules.types';
import { boxOnGround, edgeConfig, envelope, rect, sequentialIds, TEST_MODEL } from '../rules/testing/synthetic-tracks';
import { CameraAnalysis } from './camera-analysis';
import { FakeClock } from './testing/fake-clock';

const HOUR = 3_600_000;
const FRAME_MS = 200;
const PARKED: Box = boxOnGround(0.75, 0.3, 0.12, 0.08);
const ON_CROSSWALK: Box = boxOnGround(0.3, 0.85, 0.12, 0.08);

function config(): EdgeConfig {
  return edgeConfig({
    zones: [
      { id: 'kerb', cameraId: 'cam-1', name: 'Kerb', kind: 'no_parking', polygon: rect(0.6, 0.1, 0.95, 0.4) },
      { id: 'zebra', cameraId: 'cam-1', name: 'Zebra', kind: 'crosswalk', polygon: rect(0.2, 0.7, 0.4, 0.95) },
    ],
    lines: [
      {
        id: 'line',
        cameraId: 'cam-1',
        name: 'Line',
        start: [0.45, 0.5],
        end: [0.58, 0.5],
        directions: { a_to_b: 'southbound', b_to_a: 'northbound' },
      },
    ],
    rules: [
      { id: 'park', kind: 'parking_violation', zoneId: 'kerb', dwellSeconds: 60 },
      { id: 'block', kind: 'pedestrian_blocking', zoneId: 'zebra', dwellSeconds: 20 },
      { id: 'count', kind: 'line_count', lineId: 'line', intervalSeconds: 60, crossings: false },
    ],
  });
}

const car = (box: Box): Detection => ({ cls: 'car', score: 0.9, box: [...box], cocoId: 2 });

/** A parked car, a car on the crosswalk, and a car crossing the counting line upwards every 10 s. */
function scene(monoS: number): Detection[] {
  const y = 0.9 - ((monoS % 10) / 10) * 0.8;
  return [car(PARKED), car(ON_CROSSWALK), car(boxOnGround(0.52, y))];
}

class Run {
  readonly clock = new FakeClock();
  readonly analysis = new CameraAnalysis({
    cameraId: 'cam-1',
    config: config(),
    model: TEST_MODEL,
    clock: this.clock,
    rules: { newId: sequentialIds() },
  });
  readonly messages: RuleMessage[] = [];
  private readonly monoStart = this.clock.monoMs();

  get seconds(): number {
    return (this.clock.monoMs() - this.monoStart) / 1000;
  }

  /** Frames until `toS` seconds of monotonic time since the start; the count timer ticks every 5 s. */
  until(toS: number): void {
    while (this.seconds < toS) {
      this.clock.advance(FRAME_MS);
      this.messages.push(...this.analysis.analyse(scene(this.seconds), this.clock.wallMs()).messages);
      if (Math.round(this.seconds * 1000) % 5000 === 0) this.messages.push(...this.analysis.tick().messages);
    }
  }

  starts(kind: EventBody['kind']): EventBody[] {
    return this.messages.flatMap((m) =>
      m.kind === 'event' && m.body.kind === kind && m.body.phase === 'start' ? [m.body] : [],
    );
  }

  counted(): number {
    return this.messages
      .flatMap((m) => (m.kind === 'count' ? m.body.counts.map((c) => c.count) : []))
      .reduce((a, b) => a + b, 0);
  }
}

describe('CameraAnalysis on the monotonic clock', () => {
  it.each([
    ['forward', HOUR],
    ['back', -HOUR],
  ])('a wall-clock step %s of an hour mid-dwell neither creates, inflates nor delays a violation', (_, step) => {
    const run = new Run();
    run.until(10);
    run.clock.stepWall(step);
    // Pedestrian blocking (20 s) and parking (60 s) are both mid-dwell at the step.
    run.until(19);
    expect(run.starts('pedestrian_blocking')).toEqual([]);
    run.until(23);
    const [blocking] = run.starts('pedestrian_blocking');
    expect(blocking.dwellSeconds).toBeGreaterThanOrEqual(20);
    expect(blocking.dwellSeconds).toBeLessThan(23);
    run.until(59);
    expect(run.starts('parking_violation')).toEqual([]);
    run.until(63);
    const [parking] = run.starts('parking_violation');
    expect(parking.dwellSeconds).toBeGreaterThanOrEqual(60);
    expect(parking.dwellSeconds).toBeLessThan(63);
    // Timestamps are wall-clock (after the step), and the dwell is what the monotonic clock measured.
    const message = run.messages.find((m) => m.kind === 'event' && m.body.eventId === parking.eventId)!;
    expect(Date.parse(parking.startedAt) + parking.dwellSeconds * 1000).toBe(message.atMs);
    const ends = run.analysis.shutdown().messages.flatMap((m) => (m.kind === 'event' ? [m.body] : []));
    expect(ends).toHaveLength(2);
    for (const e of ends) {
      expect(e.dwellSeconds).toBeLessThan(run.seconds);
      expect(Date.parse(e.endedAt!) - Date.parse(e.startedAt)).toBe(Math.round(e.dwellSeconds * 1000));
      expect(DetectionEventSchema.safeParse({ ...e, ...envelope(1, run.clock.wallMs()) }).success).toBe(true);
    }
  });

  it.each([
    ['forward', HOUR],
    ['back', -HOUR],
  ])('the line counter keeps counting and publishing after a wall-clock step %s', (_, step) => {
    const run = new Run();
    run.until(65);
    const before = run.counted();
    expect(before).toBeGreaterThanOrEqual(5);
    run.clock.stepWall(step);
    run.until(190);
    // One car every 10 s: what crossed after the step is published within a minute and a bit, never held back.
    const after = run.counted() - before;
    expect(after).toBeGreaterThanOrEqual(10);
    const counts = run.messages.flatMap((m) => (m.kind === 'count' ? [m] : []));
    const last = counts[counts.length - 1];
    expect(run.clock.wallMs() - Date.parse(last.body.intervalEnd)).toBeLessThan(70_000);
    for (const c of counts) expect(LineCountSchema.safeParse({ ...c.body, ...envelope(1, c.atMs) }).success).toBe(true);
  });

  it('applies new thresholds and class thresholds live, and names them in provenance', () => {
    const run = new Run();
    run.until(3);
    const withDetection = (detection: Partial<EdgeConfig['detection']>): EdgeConfig => ({
      ...config(),
      detection: { ...config().detection, ...detection },
    });
    const strict = withDetection({ scoreThreshold: 0.5, classThresholds: { car: 0.95 } });
    run.analysis.reconfigure(strict, { ...TEST_MODEL, ...strict.detection });
    expect(run.analysis.tracker.thresholds).toEqual({ highScore: 0.5, classHighScore: { car: 0.95 } });
    // From the next frame: a 0.9 car starts no track any more, a 0.9 person does.
    const newcomerCar = boxOnGround(0.1, 0.2);
    const newcomerPerson = boxOnGround(0.1, 0.6, 0.03, 0.1);
    let tracks: Box[] = [];
    for (let i = 0; i < 3; i++) {
      run.clock.advance(FRAME_MS);
      const frame = [
        ...scene(run.seconds),
        car(newcomerCar),
        { cls: 'person', score: 0.9, box: [...newcomerPerson], cocoId: 0 } satisfies Detection,
      ];
      tracks = run.analysis.analyse(frame, run.clock.wallMs()).tracks.map((t) => t.box);
    }
    expect(tracks).toContainEqual(newcomerPerson);
    expect(tracks).not.toContainEqual(newcomerCar);
    const relaxed = withDetection({ scoreThreshold: 0.5, classThresholds: { car: 0.75 } });
    run.analysis.reconfigure(relaxed, { ...TEST_MODEL, ...relaxed.detection });
    run.until(70);
    const [start] = run.starts('parking_violation');
    expect(start.model).toMatchObject({ scoreThreshold: 0.5, classThresholds: { car: 0.75 } });
  });

  it('refuses thresholds outside the contract and keeps the ones in force', () => {
    const run = new Run();
    const before = run.analysis.tracker.thresholds;
    const bad = { ...config(), detection: { ...config().detection, scoreThreshold: 0.05 } };
    expect(() => run.analysis.reconfigure(bad, TEST_MODEL)).toThrow(RangeError);
    expect(run.analysis.tracker.thresholds).toEqual(before);
    // Every threshold the contract accepts is one the tracker accepts (0.7 used to throw above 0.6).
    for (const scoreThreshold of [0.1, 0.5, 0.7, 0.95, 1]) {
      const ok = { ...config(), detection: { ...config().detection, scoreThreshold } };
      expect(() => CameraAnalysis.check({ cameraId: 'cam-1', config: ok, model: TEST_MODEL })).not.toThrow();
    }
  });
});
