import type { ModelFamily, ModelManifest } from '../model-manifest.schema';
import type { ModelIo, OutputDecoder } from './decoder.types';
import { DetrDecoder, matchesDetrLayout } from './detr.decoder';
import { matchesNanodetLayout, NanodetDecoder } from './nanodet.decoder';
import { gridCount } from './grid';
import { matchesYoloxLayout, YoloxDecoder } from './yolox.decoder';
import { matchesYolov8Layout, Yolov8Decoder } from './yolov8.decoder';

/**
 * The plug-in table: one entry per model family, with the layout test used to recognise a model from its
 * inputs/outputs alone and the factory for its decoder. A new family is one decoder file plus one entry here.
 */
const FAMILIES: Record<ModelFamily, { layout: string; matches: (io: ModelIo) => boolean }> = {
  yolox: { layout: 'one output [1, N, 5+C], N = anchors of strides 8/16/32', matches: matchesYoloxLayout },
  yolov8: { layout: 'one output [1, 4+C, N], N = anchors of strides 8/16/32', matches: matchesYolov8Layout },
  nanodet: { layout: 'per-stride pairs [1, N, C] + [1, N, 4*(regMax+1)]', matches: matchesNanodetLayout },
  detr: { layout: 'inputs image + int64 [N,2]; outputs labels, boxes [N,Q,4], scores', matches: matchesDetrLayout },
};

/** Every family whose layout the model's inputs/outputs fit (normally exactly one). */
export function recognizeFamilies(io: ModelIo): ModelFamily[] {
  return (Object.keys(FAMILIES) as ModelFamily[]).filter((f) => FAMILIES[f].matches(io));
}

/** Human description of each family's layout, for "matches no family" errors. */
export function describeLayouts(): string {
  return (Object.keys(FAMILIES) as ModelFamily[]).map((f) => `${f}: ${FAMILIES[f].layout}`).join('; ');
}

export function createDecoder(manifest: ModelManifest): OutputDecoder {
  const [, , height, width] = manifest.input.shape;
  switch (manifest.family) {
    case 'yolox':
      return new YoloxDecoder(manifest.outputs[0].name, width, height, manifest.decode.strides, manifest.numClasses);
    case 'yolov8':
      return new Yolov8Decoder(manifest.outputs[0].name, gridCount(width, height, manifest.decode.strides));
    case 'nanodet':
      return new NanodetDecoder(manifest.decode.levels, width, height, manifest.decode.regMax, manifest.numClasses);
    case 'detr':
      return new DetrDecoder(manifest.decode);
  }
}
