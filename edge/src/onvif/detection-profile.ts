/** The part of a media profile that stream selection looks at. */
export interface StreamProfile {
  token: string;
  width: number;
  height: number;
  frameRate?: number;
}

export interface ModelInput {
  width: number;
  height: number;
}

/**
 * How the detector maps a frame onto its input (from the model manifest): `letterbox` scales by one factor to fit
 * and pads; `stretch` scales each axis on its own (plain resize, e.g. the DETR family).
 */
export type ResizeMode = 'letterbox' | 'stretch';

/**
 * Whether a frame of this size fills the model input with real pixels, i.e. is downscaled (or kept) and never
 * upscaled on its way into the model.
 *
 * Letterbox: the single scale factor is min(inW / w, inH / h), so one side reaching the input size is enough
 * (a 640x360 sub-stream fills a 416x416 letterbox at 416x234, exactly as a 1920x1080 main stream does).
 * Stretch: each axis is scaled on its own, so both sides must reach the input size.
 */
export function coversModelInput(profile: StreamProfile, input: ModelInput, resize: ResizeMode): boolean {
  return resize === 'letterbox'
    ? profile.width >= input.width || profile.height >= input.height
    : profile.width >= input.width && profile.height >= input.height;
}

const area = (p: StreamProfile): number => p.width * p.height;
const fps = (p: StreamProfile): number => p.frameRate ?? 0;

/**
 * The detection stream: the profile "closest above" the model input.
 *
 * - Among the profiles that cover the model input (see {@link coversModelInput}), the one with the fewest pixels:
 *   it gives the model exactly as much detail as any larger one while costing the least to pull and decode.
 * - If none covers it, the one with the most pixels (the least upscaling).
 * - Ties go to the higher frame rate, then to the camera's own order.
 *
 * Profiles without a video resolution are skipped; undefined when none is left.
 */
export function selectDetectionProfile<P extends StreamProfile>(
  profiles: readonly P[],
  input: ModelInput,
  resize: ResizeMode = 'letterbox',
): P | undefined {
  const video = profiles.filter((p) => p.width > 0 && p.height > 0);
  const covering = video.filter((p) => coversModelInput(p, input, resize));
  if (covering.length > 0) {
    return covering.reduce((best, p) =>
      area(p) < area(best) || (area(p) === area(best) && fps(p) > fps(best)) ? p : best,
    );
  }
  return selectMainProfile(video);
}

/** The largest video profile (the main stream), for evidence and viewing; undefined when there is none. */
export function selectMainProfile<P extends StreamProfile>(profiles: readonly P[]): P | undefined {
  const video = profiles.filter((p) => p.width > 0 && p.height > 0);
  if (video.length === 0) return undefined;
  return video.reduce((best, p) => (area(p) > area(best) || (area(p) === area(best) && fps(p) > fps(best)) ? p : best));
}
