import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgeConfigSchema } from '@vigil/contracts';
import { loadFixtures } from '@vigil/contracts/testing/golden-fixtures';
import { ConfigStore, LAST_GOOD_CONFIG_FILE, initialConfig } from './config-store';

const fixture = EdgeConfigSchema.parse(loadFixtures('valid').find((f) => f.name === 'config')!.json);

describe('ConfigStore', () => {
  it('returns what was saved, across instances', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cfg-'));
    new ConfigStore(dir).save(fixture);
    expect(new ConfigStore(dir).load()).toEqual({ config: fixture, problem: null });
  });

  it('has nothing on a fresh directory', () => {
    expect(new ConfigStore(mkdtempSync(join(tmpdir(), 'vigil-cfg-'))).load()).toEqual({ config: null, problem: null });
  });

  it('reports a corrupt file instead of throwing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cfg-'));
    writeFileSync(join(dir, LAST_GOOD_CONFIG_FILE), '{"version": 3, "cameras": "no"}');
    const r = new ConfigStore(dir).load();
    expect(r.config).toBeNull();
    expect(r.problem).toMatch(/cameras/);
  });

  it('starts with the newer of the settings file and the last good config', () => {
    const v9 = { ...fixture, version: 9 };
    expect(initialConfig(fixture, v9)).toBe(v9);
    expect(initialConfig(v9, fixture)).toBe(v9);
    expect(initialConfig(undefined, fixture)).toBe(fixture);
    expect(initialConfig(undefined, null)).toBeNull();
  });
});
