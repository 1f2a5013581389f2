import { mkdirSync, readFileSync, renameSync, writeFileSync, fsyncSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { EdgeConfigSchema, describeZodError, type EdgeConfig } from '@vigil/contracts';

export const LAST_GOOD_CONFIG_FILE = 'config.last-good.json';

/**
 * The last configuration that was applied, kept on disk so the edge restarts with it when the centre is
 * unreachable. Written atomically (temp file, fsync, rename): a crash mid-write leaves the previous file intact.
 */
export class ConfigStore {
  private readonly file: string;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.file = join(dataDir, LAST_GOOD_CONFIG_FILE);
  }

  /** The persisted configuration, or null when there is none or it no longer validates (reported, not thrown). */
  load(): { config: EdgeConfig | null; problem: string | null } {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return { config: null, problem: null };
    }
    try {
      const parsed = EdgeConfigSchema.safeParse(JSON.parse(text));
      if (parsed.success) return { config: parsed.data, problem: null };
      return { config: null, problem: `stored config is invalid: ${describeZodError(parsed.error).reason}` };
    } catch {
      return { config: null, problem: 'stored config is not valid JSON' };
    }
  }

  save(config: EdgeConfig): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(config));
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}

/** Picks the configuration to start with: the newer of the settings file's and the last one applied. */
export function initialConfig(fromSettings: EdgeConfig | undefined, lastGood: EdgeConfig | null): EdgeConfig | null {
  if (fromSettings && lastGood) return lastGood.version > fromSettings.version ? lastGood : fromSettings;
  return fromSettings ?? lastGood;
}
