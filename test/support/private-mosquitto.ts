import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { keepOutput, killAndWait } from './child-output';
import { freePort } from './services';

export const MOSQUITTO_BIN = process.env.VIGIL_MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

/**
 * A Mosquitto of a test's own, on a free port, with persistence saved on every change (the deployment setting the
 * brief asks for), so a test can SIGKILL it and start it again on the same port and data.
 */
export class PrivateMosquitto {
  private child: ChildProcess | null = null;
  private readonly log: string[] = [];

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  /** `autosaveEveryChange: false` keeps persistence but saves every 60 s (a full dump per change is slow under load). */
  static async start(options: { autosaveEveryChange?: boolean; extra?: string[] } = {}): Promise<PrivateMosquitto> {
    const everyChange = options.autosaveEveryChange ?? true;
    const port = await freePort();
    return PrivateMosquitto.startWithConfig(port, (dir) =>
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        'persistence true',
        `persistence_location ${dir}/`,
        ...(everyChange ? ['autosave_on_changes true', 'autosave_interval 1'] : ['autosave_interval 60']),
        ...(options.extra ?? []),
        // The default (1000) silently drops what a subscriber cannot take during an outage.
        'max_queued_messages 1000000',
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        '',
      ].join('\n'),
    );
  }

  /**
   * A broker on a configuration of the caller's (e.g. a deployment's, adapted to free ports and local paths),
   * written into a fresh folder that `config(dir)` may also put files in; resolves once `port` accepts connections.
   */
  static async startWithConfig(port: number, config: (dir: string) => string): Promise<PrivateMosquitto> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-mosquitto-'));
    const broker = new PrivateMosquitto(port, dir);
    writeFileSync(path.join(dir, 'mosquitto.conf'), config(dir));
    await broker.restart();
    return broker;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get output(): string {
    return this.log.join('');
  }

  /** Starts the broker (again) on the same port and persistence directory; resolves once it accepts connections. */
  async restart(): Promise<void> {
    if (this.child) throw new Error('broker is already running');
    const child = spawn(MOSQUITTO_BIN, ['-c', path.join(this.dir, 'mosquitto.conf')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    keepOutput(child, this.log, 200);
    const deadline = Date.now() + 10_000;
    while (!(await accepts(this.port))) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${this.output}`);
      if (Date.now() > deadline) throw new Error(`mosquitto not listening on ${this.port}: ${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Ends the broker with `signal` (SIGKILL: no final save, like a crash or a power cut). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = null;
    return killAndWait(child, signal);
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
