import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { EdgeConfigSchema, IdSchema, describeZodError } from '@vigil/contracts';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** A secret given inline, by environment variable, or by file (so it need not sit in the settings file). */
const SecretSchema = z
  .object({ value: z.string().optional(), env: z.string().optional(), file: z.string().optional() })
  .refine((s) => [s.value, s.env, s.file].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of value, env or file',
  });
export type Secret = z.infer<typeof SecretSchema>;

/**
 * The edge's local settings file (YAML): who it is, where its broker is, where it keeps state, and the secrets the
 * centre's configuration refers to by name. It may also carry a full configuration, so an edge can run with no
 * centre at all; a configuration received from the centre replaces it when its version is newer.
 */
export const EdgeSettingsSchema = z.object({
  node: z.object({ siteId: IdSchema, nodeId: IdSchema }),
  broker: z
    .object({
      url: z.string().refine((u) => URL.canParse(u) && /^(mqtts?|tcp|ssl|wss?):$/.test(new URL(u).protocol), {
        message: 'must be a URL like mqtt://host:1883',
      }),
      username: z.string().optional(),
      password: SecretSchema.optional(),
      protocolVersion: z.union([z.literal(4), z.literal(5)]).default(4),
    })
    .optional(),
  /** Outbox, last good configuration. */
  dataDir: z.string().min(1).default('.data/edge'),
  /** Where model weights are (the manifests live in the repository's models/). */
  modelsDir: z.string().optional(),
  /**
   * Models whose manifest says `shippable: false` (e.g. AGPL weights, for tests and evaluation only) may run on this
   * edge only when allowed HERE: `true` for any, or a list of model ids. The centre's configuration cannot allow them.
   */
  allowNonShippableModels: z.union([z.boolean(), z.array(z.string().regex(/^[a-z0-9][a-z0-9_]*$/))]).default(false),
  /** Camera credentials by `credentialsRef`. */
  credentials: z.record(IdSchema, z.object({ username: z.string(), password: SecretSchema })).default({}),
  detector: z
    .object({
      /** Threads per inference session (0 = onnxruntime's choice, every core; default: all cores but one). */
      intraOpNumThreads: z.int().min(0).optional(),
      /** Inference sessions, each on its own thread (default: as many as the cameras' detection rate needs). */
      sessions: z.int().min(1).max(64).optional(),
    })
    .default({}),
  heartbeatSeconds: z.number().min(1).max(3600).default(30),
  /** Log a detection summary per camera this often (0 = never). */
  summarySeconds: z.number().min(0).max(3600).default(10),
  config: EdgeConfigSchema.optional(),
});
export type EdgeSettings = z.infer<typeof EdgeSettingsSchema>;

export class EdgeSettingsError extends Error {
  override readonly name = 'EdgeSettingsError';
}

/** Reads and validates the settings file; relative paths in it are relative to the file. */
export function loadEdgeSettings(file: string): EdgeSettings {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new EdgeSettingsError(`cannot read settings ${file}: ${(err as Error).message}`);
  }
  const parsed = EdgeSettingsSchema.safeParse(raw);
  if (!parsed.success)
    throw new EdgeSettingsError(`invalid settings ${file}: ${describeZodError(parsed.error).reason}`);
  const base = dirname(resolve(file));
  const s = parsed.data;
  return {
    ...s,
    dataDir: resolve(base, s.dataDir),
    modelsDir: s.modelsDir === undefined ? undefined : resolve(base, s.modelsDir),
  };
}

/** Resolves a secret; the error names where it looked, never the value. */
export function readSecret(secret: Secret, what: string, env: NodeJS.ProcessEnv = process.env): string {
  if (secret.value !== undefined) return secret.value;
  if (secret.env !== undefined) {
    const v = env[secret.env];
    if (v === undefined) throw new EdgeSettingsError(`${what}: environment variable ${secret.env} is not set`);
    return v;
  }
  try {
    return readFileSync(secret.file!, 'utf8').trim();
  } catch {
    throw new EdgeSettingsError(`${what}: cannot read secret file ${secret.file}`);
  }
}
