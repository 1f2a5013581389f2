import type { Box } from '@vigil/geometry';

/**
 * Constant-velocity Kalman filter on a box, state (cx, cy, a, h) plus their velocities, as in DeepSORT / ByteTrack
 * (a = w / h, the aspect ratio, changes slowly; h sets the noise scale so small and large boxes are equally sure).
 *
 * Why four 2-state filters instead of one 8-state filter: with the DeepSORT noise model (diagonal process and
 * measurement noise, the measurement picking the four positions) the 8x8 covariance never couples two different
 * coordinates, so it is block-diagonal with one [position, velocity] 2x2 block per coordinate. Running the blocks
 * separately is the same filter, without 8x8 matrix algebra.
 *
 * Time is in seconds, not frames: velocities are per second and the process noise grows with the elapsed time, so
 * a camera that drops frames or runs at 5 fps instead of 30 is predicted correctly. The noise weights are ByteTrack's,
 * which were tuned per frame at 30 fps: `referenceFps` converts them.
 */
export interface KalmanNoise {
  /** Position noise as a fraction of the box height per reference frame (ByteTrack: 1/20). */
  positionWeight: number;
  /** Velocity noise as a fraction of the box height per reference frame (ByteTrack: 1/160). */
  velocityWeight: number;
  /** Frame rate the weights were tuned at (ByteTrack: 30). */
  referenceFps: number;
}

export const DEFAULT_KALMAN_NOISE: KalmanNoise = { positionWeight: 1 / 20, velocityWeight: 1 / 160, referenceFps: 30 };

/** The aspect ratio has fixed (not height-relative) noise, as in DeepSORT. */
const ASPECT_POSITION_STD = 1e-2;
const ASPECT_VELOCITY_STD = 1e-5;
const ASPECT_MEASUREMENT_STD = 1e-1;
/** Guards against a zero-height detection turning every noise term into zero. */
const MIN_HEIGHT = 1e-6;

const CX = 0;
const CY = 1;
const A = 2;
const H = 3;

/** One coordinate's [position, velocity] estimate and its 2x2 covariance [[pp, pv], [pv, vv]]. */
interface Axis {
  p: number;
  v: number;
  pp: number;
  pv: number;
  vv: number;
}

export function boxToMeasurement(box: Box): [cx: number, cy: number, a: number, h: number] {
  const w = box[2] - box[0];
  const h = Math.max(box[3] - box[1], MIN_HEIGHT);
  return [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, w / h, h];
}

export class KalmanBoxFilter {
  private readonly axes: Axis[];

  constructor(
    box: Box,
    private readonly noise: KalmanNoise = DEFAULT_KALMAN_NOISE,
  ) {
    const z = boxToMeasurement(box);
    const h = z[H];
    const posStd = 2 * noise.positionWeight * h;
    const velStd = 10 * noise.velocityWeight * h * noise.referenceFps;
    this.axes = z.map((value, i) => {
      const ps = i === A ? ASPECT_POSITION_STD : posStd;
      const vs = i === A ? ASPECT_VELOCITY_STD : velStd;
      return { p: value, v: 0, pp: ps * ps, pv: 0, vv: vs * vs };
    });
  }

  /** Current estimate as [x1, y1, x2, y2]. */
  box(): Box {
    const cx = this.axes[CX].p;
    const cy = this.axes[CY].p;
    const h = Math.max(this.axes[H].p, MIN_HEIGHT);
    const w = Math.max(this.axes[A].p, 0) * h;
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
  }

  /** Velocity of the box centre, per second. */
  centreVelocity(): [vx: number, vy: number] {
    return [this.axes[CX].v, this.axes[CY].v];
  }

  /**
   * ByteTrack zeroes the height velocity of a track it could not match, so a box that was shrinking or growing when
   * it was lost does not keep doing so for the whole lost-track buffer.
   */
  freezeScale(): void {
    this.axes[H].v = 0;
  }

  /** Advances the estimate by `dtSeconds` (>= 0). */
  predict(dtSeconds: number): void {
    if (!(dtSeconds >= 0)) throw new RangeError(`dt must be >= 0 seconds, got ${dtSeconds}`);
    if (dtSeconds === 0) return;
    const { positionWeight, velocityWeight, referenceFps } = this.noise;
    const h = Math.max(this.axes[H].p, MIN_HEIGHT);
    // Random-walk noise adds up linearly with the number of reference frames that elapsed.
    const frames = dtSeconds * referenceFps;
    const qPos = (positionWeight * h) ** 2 * frames;
    const qVel = (velocityWeight * h * referenceFps) ** 2 * frames;
    for (let i = 0; i < 4; i++) {
      const ax = this.axes[i];
      const dt = dtSeconds;
      ax.p += ax.v * dt;
      const pp = ax.pp + 2 * ax.pv * dt + ax.vv * dt * dt;
      const pv = ax.pv + ax.vv * dt;
      ax.pp = pp + (i === A ? ASPECT_POSITION_STD ** 2 * frames : qPos);
      ax.pv = pv;
      ax.vv += i === A ? ASPECT_VELOCITY_STD ** 2 * frames : qVel;
    }
  }

  /** Corrects the estimate with a measured box. */
  update(box: Box): void {
    const z = boxToMeasurement(box);
    const rStd = this.noise.positionWeight * Math.max(this.axes[H].p, MIN_HEIGHT);
    for (let i = 0; i < 4; i++) {
      const ax = this.axes[i];
      const r = i === A ? ASPECT_MEASUREMENT_STD ** 2 : rStd * rStd;
      const s = ax.pp + r;
      const kp = ax.pp / s;
      const kv = ax.pv / s;
      const innovation = z[i] - ax.p;
      ax.p += kp * innovation;
      ax.v += kv * innovation;
      // P' = (I - K H) P, written out for the 2x2 block.
      const pp = ax.pp - kp * ax.pp;
      const pv = ax.pv - kp * ax.pv;
      const vv = ax.vv - kv * ax.pv;
      ax.pp = pp;
      ax.pv = pv;
      ax.vv = vv;
    }
  }
}
