import { ObjectClassSchema, Sha256Schema } from '@vigil/contracts/common.schema';
import { z } from 'zod';

import { gridCount } from './decoders/grid';

export const MODEL_FAMILIES = ['yolox', 'nanodet', 'yolov8', 'detr'] as const;
export const ModelFamilySchema = z.enum(MODEL_FAMILIES);
export type ModelFamily = z.infer<typeof ModelFamilySchema>;

const Rgb = z.tuple([z.number(), z.number(), z.number()]);
const TensorName = z.string().min(1);
const Dim = z.number().int().positive();

/** How 0-255 pixel values become model input values, per input channel in the model's channel order. */
export const NormalizationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('raw').describe('pixel values passed as 0-255 floats') }),
  z.object({ kind: z.literal('unit').describe('pixel / 255') }),
  z.object({
    kind: z.literal('mean-std').describe('(pixel - mean) / std'),
    mean: Rgb,
    std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
  }),
]);
export type Normalization = z.infer<typeof NormalizationSchema>;

/** Where the resized frame sits in the model input; letterbox keeps the aspect ratio, stretch does not. */
export const ResizeSchema = z.discriminatedUnion('mode', [
  z.object({
    mode: z.literal('letterbox'),
    align: z.enum(['top-left', 'center']),
    padValue: z.number().int().min(0).max(255),
  }),
  z.object({ mode: z.literal('stretch') }),
]);
export type ResizeSpec = z.infer<typeof ResizeSchema>;

const TensorSpecSchema = z.object({
  name: TensorName,
  shape: z.array(Dim).min(1).describe('fixed shape the model must have (symbolic model dims accept any value)'),
});
export type TensorSpec = z.infer<typeof TensorSpecSchema>;

const InputSchema = z.object({
  name: TensorName,
  shape: z.tuple([z.literal(1), z.literal(3), Dim, Dim]).describe('NCHW: [1, 3, height, width]'),
  colorOrder: z.enum(['bgr', 'rgb']),
  normalization: NormalizationSchema,
  resize: ResizeSchema,
});

const base = {
  id: z.string().regex(/^[a-z0-9][a-z0-9_]*$/, 'lowercase letters, digits and "_"'),
  name: z.string().min(1),
  version: z.string().min(1),
  file: z.string().regex(/^[^/\\]+\.onnx$/, 'a bare .onnx file name inside the models directory'),
  sha256: Sha256Schema,
  licence: z.string().min(1).describe('SPDX id of the weights licence'),
  shippable: z.boolean().describe('false: for tests only, never a deployed default'),
  default: z.boolean().default(false),
  source: z.object({
    url: z.url().describe('where this exact file was obtained'),
    upstream: z.url().describe('official project / release of the weights'),
    notes: z.string().optional(),
  }),
  input: InputSchema,
  outputs: z.array(TensorSpecSchema).min(1),
  /** COCO category index (0-79, as the model emits it) -> our class; unmapped ids are dropped. */
  classMap: z.record(z.string().regex(/^\d+$/), ObjectClassSchema),
  numClasses: z.number().int().positive(),
  thresholds: z.object({
    score: z.number().min(0).max(1),
    nmsIou: z.number().gt(0).max(1).describe('same-class IoU above which the lower score is a duplicate'),
    vehicleMergeIou: z
      .number()
      .gt(0)
      .max(1)
      .optional()
      .describe('IoU above which two different vehicle classes are one vehicle; default nmsIou'),
    perClass: z.partialRecord(ObjectClassSchema, z.number().min(0).max(1)).default({}),
  }),
};

const StridesSchema = z.array(z.number().int().positive()).min(1);

export const ModelManifestSchema = z
  .discriminatedUnion('family', [
    z.object({ ...base, family: z.literal('yolox'), decode: z.object({ strides: StridesSchema }) }),
    z.object({ ...base, family: z.literal('yolov8'), decode: z.object({ strides: StridesSchema }) }),
    z.object({
      ...base,
      family: z.literal('nanodet'),
      decode: z.object({
        regMax: z.number().int().positive(),
        levels: z.array(z.object({ stride: z.number().int().positive(), cls: TensorName, dis: TensorName })).min(1),
      }),
    }),
    z.object({
      ...base,
      family: z.literal('detr'),
      decode: z.object({ sizeInput: TensorName, labels: TensorName, boxes: TensorName, scores: TensorName }),
    }),
  ])
  .superRefine((m, ctx) => {
    // AGPL weights would oblige every deployment to publish its source: test-only, never a default.
    if (/AGPL/i.test(m.licence) && m.shippable) {
      ctx.addIssue({ code: 'custom', path: ['shippable'], message: `${m.licence} weights must be shippable: false` });
    }
    if (m.default && !m.shippable) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: 'a non-shippable model cannot be the default' });
    }
    for (const key of Object.keys(m.classMap)) {
      if (Number(key) >= m.numClasses) {
        ctx.addIssue({ code: 'custom', path: ['classMap', key], message: `class id ${key} >= numClasses` });
      }
    }
    const outputNames = new Set(m.outputs.map((o) => o.name));
    const referenced: string[] = [];
    switch (m.family) {
      case 'yolox':
      case 'yolov8':
        break;
      case 'nanodet':
        for (const level of m.decode.levels) referenced.push(level.cls, level.dis);
        break;
      case 'detr':
        referenced.push(m.decode.labels, m.decode.boxes, m.decode.scores);
        break;
    }
    // The declared output shapes must follow from the decode parameters, so that checking the model against the
    // shapes (at load) also checks it against the decoder.
    const [, , h, w] = m.input.shape;
    const shapeOf = (name: string): string => JSON.stringify(m.outputs.find((o) => o.name === name)?.shape);
    const expectShape = (name: string, shape: number[]): void => {
      if (shapeOf(name) !== JSON.stringify(shape)) {
        ctx.addIssue({
          code: 'custom',
          path: ['outputs'],
          message: `output "${name}" of a ${m.family} model with this input/decode must be [${shape.join(',')}]`,
        });
      }
    };
    if ((m.family === 'yolox' || m.family === 'yolov8') && m.outputs.length !== 1) {
      ctx.addIssue({ code: 'custom', path: ['outputs'], message: `a ${m.family} model has exactly one output` });
    }
    if (m.family === 'yolox') {
      expectShape(m.outputs[0].name, [1, gridCount(w, h, m.decode.strides), 5 + m.numClasses]);
    } else if (m.family === 'yolov8') {
      expectShape(m.outputs[0].name, [1, 4 + m.numClasses, gridCount(w, h, m.decode.strides)]);
    } else if (m.family === 'nanodet') {
      for (const level of m.decode.levels) {
        const n = gridCount(w, h, [level.stride]);
        expectShape(level.cls, [1, n, m.numClasses]);
        expectShape(level.dis, [1, n, 4 * (m.decode.regMax + 1)]);
      }
    }
    for (const name of referenced) {
      if (!outputNames.has(name)) {
        ctx.addIssue({ code: 'custom', path: ['decode'], message: `decode refers to output "${name}" not in outputs` });
      }
    }
  });

export type ModelManifest = z.infer<typeof ModelManifestSchema>;
export type ModelManifestInput = z.input<typeof ModelManifestSchema>;
