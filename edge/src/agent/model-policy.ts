import { DetectorError, DetectorErrorCode } from '../detect/detector.errors';
import { loadManifest, manifestsDir } from '../detect/model-manifest.loader';
import type { ModelManifest } from '../detect/model-manifest.schema';
import type { EdgeSettings } from './edge-settings';

export interface ModelChoice {
  manifest: ModelManifest;
  /** Why a non-shippable model was allowed (for the log); null for a shippable one. */
  allowedBecause: string | null;
}

/**
 * The model a configuration names, if this edge may run it. The id is resolved only inside the manifests folder
 * (loadManifest refuses anything else); a model whose manifest says `shippable: false` needs the edge's own
 * `allowNonShippableModels` setting (its local settings file), which the centre's configuration cannot set.
 */
export function chooseModel(
  modelId: string,
  allow: EdgeSettings['allowNonShippableModels'],
  dir: string = manifestsDir(),
): ModelChoice {
  const manifest = loadManifest(modelId, dir);
  if (manifest.shippable) return { manifest, allowedBecause: null };
  const allowed = allow === true || (Array.isArray(allow) && allow.includes(manifest.id));
  if (!allowed) {
    throw new DetectorError(
      DetectorErrorCode.MODEL_REFUSED,
      `model "${manifest.id}" is not shippable (licence ${manifest.licence}): it runs only where the edge's local ` +
        `settings file allows it (allowNonShippableModels: true or a list naming "${manifest.id}")`,
    );
  }
  return {
    manifest,
    allowedBecause:
      allow === true
        ? 'allowNonShippableModels: true in the local settings file'
        : `allowNonShippableModels lists "${manifest.id}" in the local settings file`,
  };
}
