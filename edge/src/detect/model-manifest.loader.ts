import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { DetectorError, DetectorErrorCode } from './detector.errors';
import { type ModelManifest, ModelManifestSchema } from './model-manifest.schema';

/** Env var naming the folder that holds the .onnx files (relative values resolve against the repository root). */
export const MODELS_DIR_ENV = 'VIGIL_MODELS_DIR';

/**
 * The repository root: the nearest folder above this file with a package.json. Found by walking up rather than a
 * fixed `../..` so it is the same from sources (tsx, jest) and from the compiled `dist/` tree.
 */
export function findRepoRoot(startDir: string = __dirname): string {
  let dir = startDir;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${startDir}`);
    dir = parent;
  }
}

/** Models directory: $VIGIL_MODELS_DIR, else the shared assets next to the repository; never relative to cwd. */
export function resolveModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  const root = findRepoRoot();
  const configured = env[MODELS_DIR_ENV];
  return path.resolve(root, configured && configured.length > 0 ? configured : '../shared/assets/models');
}

/** Folder of the committed manifests and model cards (`models/` at the repository root). */
export function manifestsDir(): string {
  return path.join(findRepoRoot(), 'models');
}

/** Validates a manifest object; the error names the source and every failing field. */
export function parseManifest(raw: unknown, source: string): ModelManifest {
  const parsed = ModelManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new DetectorError(DetectorErrorCode.MANIFEST_INVALID, `${source}: ${problems}`);
  }
  return parsed.data;
}

export function loadManifestFile(file: string): ModelManifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new DetectorError(DetectorErrorCode.MANIFEST_INVALID, `cannot read manifest ${file}`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new DetectorError(DetectorErrorCode.MANIFEST_INVALID, `${file} is not valid JSON`, { cause });
  }
  const manifest = parseManifest(raw, file);
  const expectedId = path.basename(file, '.json');
  if (manifest.id !== expectedId) {
    throw new DetectorError(
      DetectorErrorCode.MANIFEST_INVALID,
      `${file}: id "${manifest.id}" must match the file name "${expectedId}"`,
    );
  }
  return manifest;
}

/** Every manifest in the folder, validated; exactly one may be the default and it must be shippable. */
export function loadAllManifests(dir: string = manifestsDir()): ModelManifest[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const manifests = files.map((f) => loadManifestFile(path.join(dir, f)));
  const defaults = manifests.filter((m) => m.default);
  if (defaults.length > 1) {
    throw new DetectorError(
      DetectorErrorCode.MANIFEST_INVALID,
      `more than one default model in ${dir}: ${defaults.map((m) => m.id).join(', ')}`,
    );
  }
  return manifests;
}

/** What a model id may look like: the manifest schema's `id` (a file name stem, never a path). */
export const MODEL_ID_PATTERN = /^[a-z0-9][a-z0-9_]{0,127}$/;

/**
 * The manifest file of a model id, inside `dir` and nowhere else: the id must be an id (MODEL_ID_PATTERN), and the
 * resolved file must lie directly in the folder (belt and braces against `..`, separators and absolute paths).
 */
export function manifestFileOf(id: string, dir: string = manifestsDir()): string {
  if (!MODEL_ID_PATTERN.test(id)) {
    throw new DetectorError(
      DetectorErrorCode.MODEL_REFUSED,
      `model id ${JSON.stringify(id.slice(0, 140))} is not an id (lowercase letters, digits and "_"; never a path)`,
    );
  }
  const root = path.resolve(dir);
  const file = path.resolve(root, `${id}.json`);
  if (path.dirname(file) !== root) {
    throw new DetectorError(DetectorErrorCode.MODEL_REFUSED, `model id "${id}" resolves outside ${root}`);
  }
  return file;
}

export function loadManifest(id: string, dir: string = manifestsDir()): ModelManifest {
  const file = manifestFileOf(id, dir);
  if (!existsSync(file)) {
    const known = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => path.basename(f, '.json'));
    throw new DetectorError(
      DetectorErrorCode.MANIFEST_INVALID,
      `no manifest "${id}" in ${dir} (known: ${known.join(', ') || 'none'})`,
    );
  }
  return loadManifestFile(file);
}

/** The model used when a configuration names none: the manifest marked default (always shippable). */
export function loadDefaultManifest(dir: string = manifestsDir()): ModelManifest {
  const found = loadAllManifests(dir).find((m) => m.default);
  if (!found) throw new DetectorError(DetectorErrorCode.MANIFEST_INVALID, `no default model in ${dir}`);
  return found;
}
