import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { keepOutput, killAndWait } from './child-output';
import { freePort, MOSQUITTO_URL, uniqueId } from './services';

const ROOT = join(__dirname, '..', '..');

/**
 * The control centre as a real child process (the way it runs in production), so tests can SIGKILL it and start
 * it again on the same data.
 */
export class CentreProcess {
  private child: ChildProcess | null = null;
  readonly output: string[] = [];

  private constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  static async create(env: Record<string, string>): Promise<CentreProcess> {
    return new CentreProcess(await freePort(), env);
  }

  /**
   * A started centre on the machine's shared Mosquitto with a client id and share group of its own, so other
   * tests' centres on the same broker neither take its messages nor its session.
   */
  static async startOnSharedBroker(env: Record<string, string>): Promise<CentreProcess> {
    const centre = await CentreProcess.create({
      MQTT_URL: MOSQUITTO_URL,
      MQTT_CLIENT_ID: uniqueId('centre'),
      MQTT_SHARE_GROUP: uniqueId('grp'),
      ...env,
    });
    await centre.start();
    return centre;
  }

  /** The running centre's process id (for CPU and memory accounting). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(readyTimeoutMs = 60_000): Promise<void> {
    // Extra node flags for diagnosis, e.g. VIGIL_CENTRE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
    const extra = (process.env.VIGIL_CENTRE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(
      process.execPath,
      [...extra, '--import', 'tsx', join(ROOT, 'apps/control-center/src/main.ts')],
      {
        cwd: ROOT,
        env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', PORT: String(this.port), ...this.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    keepOutput(child, this.output, 500);
    const exit: { code: number | null } = { code: null };
    child.once('exit', (code) => (exit.code = code ?? -1));
    const deadline = Date.now() + readyTimeoutMs;
    while (!(await this.ready())) {
      if (exit.code !== null) throw new Error(`centre exited with ${exit.code}:\n${this.output.join('')}`);
      if (Date.now() > deadline)
        throw new Error(`centre not ready after ${readyTimeoutMs} ms:\n${this.output.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.baseUrl}/health/ready`);
      return res.status === 200;
    } catch {
      return false;
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = null;
    return killAndWait(child, signal);
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
  }
}
