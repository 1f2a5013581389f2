import fc from 'fast-check';
import { coversModelInput, selectDetectionProfile, selectMainProfile, type StreamProfile } from './detection-profile';

const p = (token: string, width: number, height: number, frameRate?: number): StreamProfile => ({
  token,
  width,
  height,
  frameRate,
});

const YOLOX = { width: 416, height: 416 };

describe('coversModelInput', () => {
  it('letterbox: one side reaching the input is enough, since one factor scales both', () => {
    expect(coversModelInput(p('a', 640, 360), YOLOX, 'letterbox')).toBe(true);
    expect(coversModelInput(p('a', 416, 100), YOLOX, 'letterbox')).toBe(true);
    expect(coversModelInput(p('a', 415, 415), YOLOX, 'letterbox')).toBe(false);
  });

  it('stretch: both sides must reach the input', () => {
    expect(coversModelInput(p('a', 640, 360), YOLOX, 'stretch')).toBe(false);
    expect(coversModelInput(p('a', 416, 416), YOLOX, 'stretch')).toBe(true);
  });
});

describe('selectDetectionProfile', () => {
  const camera = [p('main', 1920, 1080, 25), p('sub', 640, 360, 25), p('third', 320, 180, 25)];

  it('letterbox picks the smallest stream that still fills the input (the sub-stream, not the main)', () => {
    expect(selectDetectionProfile(camera, YOLOX, 'letterbox')?.token).toBe('sub');
  });

  it('stretch needs both sides, so a 640x360 sub-stream is not enough for 416x416', () => {
    expect(selectDetectionProfile(camera, YOLOX, 'stretch')?.token).toBe('main');
    expect(selectDetectionProfile(camera, { width: 320, height: 320 }, 'stretch')?.token).toBe('sub');
  });

  it('falls back to the largest stream when none reaches the input', () => {
    expect(selectDetectionProfile([p('a', 320, 240), p('b', 160, 120)], { width: 640, height: 640 })?.token).toBe('a');
  });

  it('the virtual camera case: 768x576 main and 320x240 sub, YOLOX 416 -> main', () => {
    expect(selectDetectionProfile([p('Profile_1', 768, 576), p('Profile_2', 320, 240)], YOLOX)?.token).toBe(
      'Profile_1',
    );
  });

  it('breaks ties on size by the higher frame rate, then by the camera order', () => {
    expect(selectDetectionProfile([p('slow', 640, 480, 5), p('fast', 640, 480, 25)], YOLOX)?.token).toBe('fast');
    expect(selectDetectionProfile([p('first', 640, 480), p('second', 640, 480)], YOLOX)?.token).toBe('first');
  });

  it('ignores profiles without a resolution and returns undefined when nothing is left', () => {
    expect(selectDetectionProfile([p('audio', 0, 0), p('v', 800, 600)], YOLOX)?.token).toBe('v');
    expect(selectDetectionProfile([p('audio', 0, 0)], YOLOX)).toBeUndefined();
    expect(selectDetectionProfile([], YOLOX)).toBeUndefined();
  });

  const profileArb = fc.record({
    token: fc.string({ minLength: 1, maxLength: 4 }),
    width: fc.integer({ min: 16, max: 4096 }),
    height: fc.integer({ min: 16, max: 4096 }),
  });
  const inputArb = fc.record({ width: fc.integer({ min: 32, max: 1280 }), height: fc.integer({ min: 32, max: 1280 }) });

  it('never picks a non-covering stream when a covering one exists, and none covering is smaller', () => {
    fc.assert(
      fc.property(fc.array(profileArb, { minLength: 1, maxLength: 6 }), inputArb, fc.boolean(), (list, input, lb) => {
        const resize = lb ? 'letterbox' : 'stretch';
        const chosen = selectDetectionProfile(list, input, resize);
        expect(chosen).toBeDefined();
        const covering = list.filter((x) => coversModelInput(x, input, resize));
        const px = (x: StreamProfile): number => x.width * x.height;
        if (covering.length > 0) {
          expect(coversModelInput(chosen as StreamProfile, input, resize)).toBe(true);
          expect(covering.every((x) => px(x) >= px(chosen as StreamProfile))).toBe(true);
        } else {
          expect(list.every((x) => px(x) <= px(chosen as StreamProfile))).toBe(true);
        }
      }),
    );
  });
});

describe('selectMainProfile', () => {
  it('is the largest video profile', () => {
    expect(selectMainProfile([p('sub', 640, 360), p('main', 1920, 1080), p('none', 0, 0)])?.token).toBe('main');
    expect(selectMainProfile([p('none', 0, 0)])).toBeUndefined();
  });
});
