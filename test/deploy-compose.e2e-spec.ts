import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { parse as parseYaml } from 'yaml';
import { subscriptions, topics, type NodeRef } from '@vigil/contracts';
import { loadConfig } from '../apps/control-center/src/config/app-config';
import { loadEdgeSettings, type EdgeSettings } from '../edge/src/agent/edge-settings';
import { PrivateMosquitto } from './support/private-mosquitto';
import { CentreProcess } from './support/centre-process';
import { ScratchDatabase } from './support/scratch-database';
import { freePort, waitFor } from './support/services';

// deploy/compose cannot be run here (no Docker engine), so it is checked against the code it runs: every path it
// names exists, the centre's environment passes the centre's own validation, the edge's settings the edge's own
// loader, the broker's listeners and credentials agree with what centre and edge are given, and the broker config
// runs on a real Mosquitto with the secrets make-secrets.sh makes, carrying a message from the edge (TLS, its own
// identity) through the centre (its environment from the compose file) into a database and the commit back.
jest.setTimeout(120_000);

const ROOT = path.join(__dirname, '..');
const COMPOSE_DIR = path.join(ROOT, 'deploy', 'compose');
const COMPOSE_FILE = path.join(COMPOSE_DIR, 'docker-compose.yml');

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  secrets?: string[];
  depends_on?: Record<string, unknown>;
}
interface Compose {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
}

// Compose applies YAML merge keys (`<<: *vigil-image`).
const compose = parseYaml(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as Compose;
const { centre, edge, mosquitto, timescaledb } = compose.services;

interface Mount {
  source: string;
  target: string;
  named: boolean;
}
function mounts(service: Service): Mount[] {
  return (service.volumes ?? []).map((v) => {
    const [source, target] = v.split(':');
    const named = !source.startsWith('.') && !source.startsWith('/');
    return { source: named ? source : path.resolve(COMPOSE_DIR, source), target, named };
  });
}

/** Mosquitto's config as directives in order; each listener with the TLS settings that follow it. */
function readMosquittoConf(text: string) {
  const directives = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(/\s+/));
  const listeners: { port: number; bind: string | undefined; tls: boolean }[] = [];
  for (const [key, ...args] of directives) {
    if (key === 'listener') listeners.push({ port: Number(args[0]), bind: args[1], tls: false });
    if (key === 'certfile') listeners[listeners.length - 1].tls = true;
  }
  const value = (key: string) => directives.find(([k]) => k === key)?.[1];
  return { directives, listeners, value };
}

const brokerConf = readMosquittoConf(readFileSync(path.join(COMPOSE_DIR, 'mosquitto.conf'), 'utf8'));
const mosquittoConfMount = mounts(mosquitto).find((m) => m.target === '/mosquitto/config/mosquitto.conf');
const aclMount = mounts(mosquitto).find((m) => m.target === brokerConf.value('acl_file'));

/** `user` blocks of a Mosquitto ACL file: user → "read|write|readwrite topic" lines. */
function readAcl(text: string): Map<string, string[]> {
  const acl = new Map<string, string[]>();
  let user: string | null = null;
  for (const line of text.split('\n').map((l) => l.trim())) {
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'user') acl.set((user = rest[0]), []);
    else if (key === 'topic' && user) acl.get(user)!.push(rest.join(' '));
  }
  return acl;
}

describe('deploy/compose', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'vigil-compose-'));
  const secretsDir = path.join(work, 'secrets');
  const secretsInCompose = path.join(COMPOSE_DIR, 'secrets');

  /** Where a compose secret lies: ./secrets/ is made by make-secrets.sh, here into a folder of the test's own. */
  const secretFile = (name: string): string => {
    const declared = compose.secrets[name];
    if (!declared) throw new Error(`secret ${name} is not declared`);
    const file = path.resolve(COMPOSE_DIR, declared.file);
    return file.startsWith(`${secretsInCompose}${path.sep}`)
      ? path.join(secretsDir, path.relative(secretsInCompose, file))
      : file;
  };

  /** The host file behind a path inside a service's container (a secret or a bind mount), or null. */
  const hostPath = (service: Service, inContainer: string): string | null => {
    const secret = /^\/run\/secrets\/([^/]+)$/.exec(inContainer)?.[1];
    if (secret) return service.secrets?.includes(secret) ? secretFile(secret) : null;
    const mount = mounts(service).find((m) => !m.named && inContainer.startsWith(m.target));
    return mount ? path.join(mount.source, path.relative(mount.target, inContainer)) : null;
  };

  /** The centre's environment with each /run/secrets path where this test keeps that secret. */
  const centreEnv = (): Record<string, string> =>
    Object.fromEntries(
      Object.entries(centre.environment ?? {}).map(([k, v]) => [
        k,
        v.startsWith('/run/secrets/') ? hostPath(centre, v)! : v,
      ]),
    );

  beforeAll(() => {
    // As README.md says: make-secrets.sh, then each camera's password by hand.
    execFileSync(path.join(COMPOSE_DIR, 'make-secrets.sh'), {
      env: { ...process.env, SECRETS_DIR: secretsDir },
      stdio: 'pipe',
    });
    execFileSync('sh', ['-c', `printf 'camera-secret\\n' > "${path.join(secretsDir, 'cam-north.password')}"`]);
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('parses, and builds the one image from the repository Dockerfile for centre and edge', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['centre', 'edge', 'mosquitto', 'timescaledb']);
    for (const service of [centre, edge]) {
      expect(path.resolve(COMPOSE_DIR, service.build!.context)).toBe(ROOT);
      expect(existsSync(path.join(ROOT, service.build!.dockerfile ?? 'Dockerfile'))).toBe(true);
    }
    expect(centre.build).toEqual(edge.build);
  });

  it('runs what `npm run build` compiles, and the Dockerfile copies only what exists', () => {
    const build = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    const base = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: { outDir: string };
    };
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]) as string[];
    for (const command of [cmd, centre.command!, edge.command!]) {
      const entry = command[1];
      expect(command[0]).toBe('node');
      // dist/<source path>.js: tsc keeps the folders below the common root of the included sources.
      expect(entry.startsWith(`${base.compilerOptions.outDir}/`)).toBe(true);
      const source = entry.slice(base.compilerOptions.outDir.length + 1).replace(/\.js$/, '.ts');
      expect(existsSync(path.join(ROOT, source))).toBe(true);
      expect(build.include.some((glob) => source.startsWith(glob.split('/**')[0]))).toBe(true);
    }
    expect(cmd).toEqual(centre.command);
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(' '));
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', '.npmrc', 'models']));
    expect(copied.filter((p) => !existsSync(path.join(ROOT, p)))).toEqual([]);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/apt-get install[^\n]*\bffmpeg\b/);
  });

  it('mounts only files that exist, declares every secret and volume, and every secret is made or documented', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const m of mounts(service)) {
        if (m.named)
          expect({ name, volume: m.source, declared: m.source in compose.volumes }).toMatchObject({ declared: true });
        else expect({ name, source: m.source, exists: existsSync(m.source) }).toMatchObject({ exists: true });
      }
      for (const s of service.secrets ?? [])
        expect({ name, secret: s, declared: s in compose.secrets }).toMatchObject({ declared: true });
    }
    const missing = Object.keys(compose.secrets).filter((s) => !existsSync(secretFile(s)));
    expect(missing).toEqual([]);
    // The one secret make-secrets.sh cannot make is the camera's own password: the README says to write it.
    const readme = readFileSync(path.join(COMPOSE_DIR, 'README.md'), 'utf8');
    expect(readme).toContain('secrets/cam-north.password');
    expect(readme).toContain('make-secrets.sh');
  });

  it("gives the centre an environment that passes the centre's own config validation, aimed at the services", () => {
    const config = loadConfig(centreEnv());
    const db = new URL(config.database.url!);
    expect(db.hostname).toBe('timescaledb');
    expect(Number(db.port)).toBe(5432);
    expect(db.pathname).toBe(`/${timescaledb.environment!.POSTGRES_DB}`);
    expect(decodeURIComponent(db.username)).toBe(timescaledb.environment!.POSTGRES_USER);
    // Same secret on both sides: the password the database is initialised with is the one the centre sends.
    expect(timescaledb.environment!.POSTGRES_PASSWORD_FILE).toBe('/run/secrets/db_password');
    expect(timescaledb.secrets).toContain('db_password');
    expect(decodeURIComponent(db.password)).toBe(readFileSync(secretFile('db_password'), 'utf8').trim());
    expect(config.http.host).toBe('0.0.0.0');
    expect(centre.ports).toContain(`${config.http.port}:${config.http.port}`);

    const broker = new URL(config.mqtt.url!);
    expect(broker.hostname).toBe('mosquitto');
    expect(broker.protocol).toBe('mqtt:');
    const listener = brokerConf.listeners.find((l) => l.port === Number(broker.port));
    expect(listener).toEqual({ port: Number(broker.port), bind: '0.0.0.0', tls: false });
    // The plain listener serves the compose network only.
    expect((mosquitto.ports ?? []).map((p) => Number(p.split(':').pop()))).not.toContain(listener!.port);
    expect(config.mqtt.username).toBe('vigil-centre');
    expect(config.mqtt.password).toBe(readFileSync(secretFile('centre_mqtt_password'), 'utf8').trim());
    // Not the container's hostname, which changes with every re-creation (the broker session would be lost).
    expect(centre.environment!.MQTT_CLIENT_ID).toBeDefined();
    expect(centre.depends_on).toMatchObject({ timescaledb: { condition: 'service_healthy' }, mosquitto: {} });
  });

  it('runs the broker with the documented persistence, its files mounted where its config reads them', () => {
    expect(mosquittoConfMount).toBeDefined();
    expect(aclMount?.source).toBe(path.join(ROOT, 'deploy', 'mosquitto', 'vigil.acl'));
    expect(brokerConf.value('persistence')).toBe('true');
    expect(brokerConf.value('autosave_on_changes')).toBe('true');
    const data = mounts(mosquitto).find((m) => `${m.target}/` === brokerConf.value('persistence_location'));
    expect(data?.named).toBe(true);
    expect(brokerConf.value('allow_anonymous')).toBe('false');
    for (const key of ['password_file', 'certfile', 'keyfile', 'cafile'])
      expect({ key, file: hostPath(mosquitto, brokerConf.value(key)!) }).toEqual({ key, file: expect.any(String) });
    // Everything but paths and listeners is the production config's (deploy/mosquitto/mosquitto.conf).
    const local = ['listener', 'persistence_location', 'password_file', 'acl_file', 'certfile', 'keyfile', 'cafile'];
    const production = readMosquittoConf(
      readFileSync(path.join(ROOT, 'deploy', 'mosquitto', 'mosquitto.conf'), 'utf8'),
    );
    const shared = (c: typeof brokerConf) => c.directives.filter(([k]) => !local.includes(k)).map((d) => d.join(' '));
    expect(shared(brokerConf)).toEqual(shared(production));
    // The published port is the TLS listener.
    expect(mosquitto.ports).toEqual(['8883:8883']);
    expect(brokerConf.listeners.find((l) => l.port === 8883)?.tls).toBe(true);
  });

  describe('edge', () => {
    const settingsMount = () =>
      mounts(edge).find((m) => m.target === edge.command![edge.command!.indexOf('--config') + 1]);
    let settings: EdgeSettings;
    beforeAll(() => (settings = loadEdgeSettings(settingsMount()!.source)));

    it("has a settings file that the edge's own loader accepts, mounted where its command reads it", () => {
      expect(settingsMount()).toBeDefined();
      expect(settings.node).toEqual({ siteId: 'rome-centro', nodeId: 'node-via-nazionale' });
    });

    it('reaches the TLS listener by its compose name, trusting the CA the certificate is signed by', () => {
      const broker = new URL(settings.broker!.url);
      expect(broker.protocol).toBe('mqtts:');
      expect(broker.hostname).toBe('mosquitto');
      expect(brokerConf.listeners.find((l) => l.port === Number(broker.port))?.tls).toBe(true);
      expect(edge.environment!.NODE_EXTRA_CA_CERTS).toBe('/run/secrets/mqtt_ca_crt');
      expect(hostPath(edge, edge.environment!.NODE_EXTRA_CA_CERTS)).toBe(
        hostPath(mosquitto, brokerConf.value('cafile')!),
      );
      const san = execFileSync('openssl', [
        'x509',
        '-noout',
        '-ext',
        'subjectAltName',
        '-in',
        secretFile('mqtt_server_crt'),
      ]);
      expect(san.toString()).toContain('DNS:mosquitto');
    });

    it('finds its secrets, models and state where the compose file mounts them', () => {
      expect(settings.broker!.password?.file).toBeDefined();
      expect(existsSync(hostPath(edge, settings.broker!.password!.file!) ?? '')).toBe(true);
      for (const c of Object.values(settings.credentials))
        if (c.password.file) expect(existsSync(hostPath(edge, c.password.file) ?? '')).toBe(true);
      expect(mounts(edge).find((m) => m.target === settings.modelsDir)?.named).toBe(false);
      expect(mounts(edge).find((m) => m.target === settings.dataDir)?.named).toBe(true);
    });
  });

  it('has a password and ACL entry for the centre and the edge, granting each its topics', () => {
    const users = readFileSync(secretFile('mosquitto_passwd'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(':')[0]);
    const acl = readAcl(readFileSync(aclMount!.source, 'utf8'));
    const node = loadEdgeSettings(path.join(COMPOSE_DIR, 'edge.yaml')).node;
    const edgeUser = loadEdgeSettings(path.join(COMPOSE_DIR, 'edge.yaml')).broker!.username!;
    expect(users).toEqual(expect.arrayContaining([centre.environment!.MQTT_USERNAME, edgeUser]));
    expect(acl.get(centre.environment!.MQTT_USERNAME)).toEqual(
      expect.arrayContaining([`read ${subscriptions.allEdges}`, `write vigil/v1/centre/#`]),
    );
    expect(acl.get(edgeUser)).toEqual(
      expect.arrayContaining([`write ${subscriptions.fromNode(node)}`, `read ${subscriptions.centreToNode(node)}`]),
    );
  });

  describe('on a real Mosquitto running the compose broker config', () => {
    const node: NodeRef = { siteId: 'rome-centro', nodeId: 'node-via-nazionale' };
    let broker: PrivateMosquitto;
    let plainPort: number;
    let tlsPort: number;
    const clients: MqttClient[] = [];
    const secret = (name: string) => readFileSync(secretFile(name), 'utf8').trim();

    beforeAll(async () => {
      plainPort = await freePort();
      tlsPort = await freePort();
      // In the container each secret is a file bind mount, readable by the broker's unprivileged user whatever the
      // folder around it: here the folder only lets it through. The broker drops root for the `mosquitto` user.
      chmodSync(work, 0o711);
      chmodSync(secretsDir, 0o711);
      const ports = new Map([
        [1883, plainPort],
        [8883, tlsPort],
      ]);
      broker = await PrivateMosquitto.startWithConfig(plainPort, (dir) => {
        const data = path.join(dir, 'data');
        mkdirSync(data);
        chmodSync(dir, 0o711);
        if (process.getuid?.() === 0) chownSync(data, Number(execFileSync('id', ['-u', 'mosquitto'])), 0);
        const acl = path.join(dir, 'vigil.acl');
        copyFileSync(aclMount!.source, acl);
        return brokerConf.directives
          .map(([key, ...args]) => {
            if (key === 'listener') return `listener ${ports.get(Number(args[0]))} 127.0.0.1`;
            if (key === 'persistence_location') return `${key} ${data}/`;
            if (key === 'acl_file') return `${key} ${acl}`;
            if (key === 'log_dest') return 'log_dest stderr';
            const file = ['password_file', 'certfile', 'keyfile', 'cafile'].includes(key);
            return file ? `${key} ${hostPath(mosquitto, args[0])}` : [key, ...args].join(' ');
          })
          .join('\n');
      });
    });

    afterAll(async () => {
      await Promise.all(clients.map((c) => c.endAsync()));
      await broker?.stop();
    });

    const connect = async (url: string, options: IClientOptions): Promise<MqttClient> => {
      const client = await mqtt.connectAsync(
        url,
        { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...options },
        false,
      );
      clients.push(client);
      return client;
    };
    const asEdge = (options: IClientOptions = {}) =>
      connect(`mqtts://127.0.0.1:${tlsPort}`, {
        username: 'rome-centro.node-via-nazionale',
        password: secret('edge_mqtt_password'),
        ca: readFileSync(secretFile('mqtt_ca_crt')),
        // The name the edge dials in compose; the certificate must be valid for it.
        servername: 'mosquitto',
        clientId: `vigil-edge-test-${randomUUID().slice(0, 8)}`,
        ...options,
      });

    it('lets the centre in with its password and refuses a wrong password or none', async () => {
      const url = `mqtt://127.0.0.1:${plainPort}`;
      const c = await connect(url, { username: 'vigil-centre', password: secret('centre_mqtt_password') });
      expect(c.connected).toBe(true);
      await expect(connect(url, { username: 'vigil-centre', password: 'wrong' })).rejects.toThrow(
        /not authorized|bad user name or password/i,
      );
      await expect(connect(url, {})).rejects.toThrow(/not authorized|bad user name or password/i);
    });

    it('lets the edge in over TLS only with a certificate valid for the compose host name', async () => {
      const e = await asEdge();
      expect(e.connected).toBe(true);
      await expect(asEdge({ servername: 'elsewhere.example' })).rejects.toThrow(/altnames|hostname/i);
      await expect(asEdge({ ca: undefined })).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
    });

    it('keeps the edge to its own topics, both ways', async () => {
      const e = await asEdge();
      const c = await connect(`mqtt://127.0.0.1:${plainPort}`, {
        username: 'vigil-centre',
        password: secret('centre_mqtt_password'),
      });
      const other = { siteId: 'rome-centro', nodeId: 'another-node' };
      const atEdge: string[] = [];
      const atCentre: string[] = [];
      e.on('message', (topic) => atEdge.push(topic));
      c.on('message', (topic) => atCentre.push(topic));
      // Mosquitto grants any subscription and applies the ACL to each message it would deliver.
      await e.subscribeAsync([subscriptions.centreToNode(node), subscriptions.centreToNode(other)], { qos: 1 });
      await c.subscribeAsync(subscriptions.allEdges, { qos: 1 });

      // The centre writes to every node; this edge hears only its own (the same publisher's messages keep order).
      await c.publishAsync(topics.centre('commit', other), '{}', { qos: 1 });
      await c.publishAsync(topics.centre('commit', node), '{}', { qos: 1 });
      await waitFor('the edge hears its own commit', () => atEdge.length > 0);
      expect(atEdge).toEqual([topics.centre('commit', node)]);

      // An edge cannot speak for another node: the broker refuses the publish and delivers nothing.
      await expect(e.publishAsync(topics.edgeNode('heartbeat', other), '{}', { qos: 1 })).rejects.toThrow(
        /not authorized/i,
      );
      await e.publishAsync(topics.edgeNode('heartbeat', node), '{}', { qos: 1 });
      await waitFor('the centre hears the edge', () => atCentre.length > 0);
      expect(atCentre).toEqual([topics.edgeNode('heartbeat', node)]);
    });

    it('carries an edge message through the centre, started with the compose environment, and the commit back', async () => {
      const db = await ScratchDatabase.create('vigil_compose');
      // The services at their addresses here and a free HTTP port; everything else (the credentials from their
      // files, the client id) as in compose. The machine's PostgreSQL trusts local users: the password goes unused.
      const { PORT: _port, ...env } = centreEnv();
      const centreProcess = await CentreProcess.create({
        ...env,
        HOST: '127.0.0.1',
        DATABASE_URL: db.url,
        MQTT_URL: `mqtt://127.0.0.1:${plainPort}`,
        NODE_ENV: 'test',
      });
      try {
        await centreProcess.start();
        const e = await asEdge();
        const commits: unknown[] = [];
        e.on('message', (topic, payload) => {
          if (topic === topics.centre('commit', node)) commits.push(JSON.parse(payload.toString()));
        });
        await e.subscribeAsync(subscriptions.centreToNode(node), { qos: 1 });
        const bootId = randomUUID();
        const now = Date.now();
        const minute = (n: number) => new Date(Math.floor(now / 60_000) * 60_000 + n * 60_000).toISOString();
        const count = {
          bootId,
          seq: 1,
          ts: new Date(now).toISOString(),
          lineId: 'stop-line',
          intervalStart: minute(-1),
          intervalEnd: minute(0),
          counts: [{ objectClass: 'car', direction: 'a_to_b', count: 3 }],
        };
        await e.publishAsync(topics.edgeCamera('count', { ...node, cameraId: 'cam-north' }), JSON.stringify(count), {
          qos: 1,
        });
        await waitFor('the commit ack', () => commits.find((c) => (c as { bootId: string }).bootId === bootId), 30_000);
        expect(commits).toContainEqual(expect.objectContaining({ bootId, upToSeq: 1 }));
      } finally {
        await centreProcess.stop();
        await db.drop();
      }
    });
  });
});
