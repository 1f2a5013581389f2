import { ConfigError, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const cfg = loadConfig({});
    expect(cfg.database.url).toBeUndefined();
    expect(cfg.mqtt.url).toBeUndefined();
    expect(cfg.http.port).toBe(3000);
    expect(cfg.mqtt.embedded.port).toBe(1884);
  });

  it('treats an empty DATABASE_URL as unset', () => {
    expect(loadConfig({ DATABASE_URL: '' }).database.url).toBeUndefined();
  });

  it('coerces numbers', () => {
    expect(loadConfig({ PORT: '8080', INGEST_BATCH_MAX: '500' })).toMatchObject({
      http: { port: 8080 },
      ingest: { batchMax: 500 },
    });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://localhost/vigil'],
    ['MQTT_URL', 'not a url'],
    ['LOG_LEVEL', 'loud'],
    ['MQTT_CLIENT_ID', 'has/slash'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}:`));
  });

  it('does not echo the value of a bad variable (it may be a secret)', () => {
    const secret = 'postgres-but-wrong://admin:hunter2@db';
    let message = '';
    try {
      loadConfig({ DATABASE_URL: secret });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('DATABASE_URL');
    expect(message).not.toContain('hunter2');
  });
});
