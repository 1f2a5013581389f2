import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** RTP transports the server offers; real cameras are usually pulled over TCP. */
export type RtspTransport = 'tcp+udp' | 'tcp' | 'udp';

export interface RtspStreamSpec {
  /** Mount path, e.g. `/stream1`. */
  path: string;
  width: number;
  height: number;
}

export interface RtspServerProcessOptions {
  clip: string;
  streams: readonly RtspStreamSpec[];
  /** Frame rate of the clip, e.g. `10/1`. */
  fps: string;
  address?: string;
  /** 0 or absent: any free port, kept across restarts. */
  port?: number;
  transport?: RtspTransport;
  /** When set, clients must authenticate (RTSP Digest), as on a real camera. */
  auth?: { username: string; password: string };
  pythonPath?: string;
  readyTimeoutMs?: number;
}

const SCRIPT = path.join(__dirname, 'rtsp-server.py');
const STDERR_TAIL_BYTES = 4096;
const STOP_GRACE_MS = 3000;

/** Processes still running in this Node process, killed on exit so none outlives a crashed test run. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * The RTSP half of the virtual camera: Debian's gst-rtsp-server driven by `rtsp-server.py`, as a child process that
 * can be stopped and started again on the same port (a camera whose stream dies and comes back).
 */
export class RtspServerProcess {
  private child: ChildProcess | null = null;
  private boundPort: number;
  private stderrTail = '';
  private paused = false;

  constructor(private readonly options: RtspServerProcessOptions) {
    this.boundPort = options.port ?? 0;
  }

  /** The listening port; known after the first start when the options asked for any free port. */
  get port(): number {
    return this.boundPort;
  }

  /** PID of the running server, null when stopped. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null;
  }

  async start(): Promise<void> {
    if (this.child) return;
    const o = this.options;
    const args = [
      SCRIPT,
      '--clip',
      o.clip,
      '--address',
      o.address ?? '127.0.0.1',
      '--port',
      String(this.boundPort),
      '--fps',
      o.fps,
      '--transport',
      o.transport ?? 'tcp+udp',
      ...o.streams.flatMap((s) => ['--stream', `${s.path}=${s.width}x${s.height}`]),
    ];
    // Credentials travel in the environment, not argv, so `ps` does not show them.
    const env: NodeJS.ProcessEnv = { ...process.env, GST_DEBUG: process.env.GST_DEBUG ?? '0' };
    if (o.auth) {
      args.push('--username-env', 'VIGIL_RTSP_USERNAME', '--password-env', 'VIGIL_RTSP_PASSWORD');
      env.VIGIL_RTSP_USERNAME = o.auth.username;
      env.VIGIL_RTSP_PASSWORD = o.auth.password;
    }
    this.stderrTail = '';
    const child = spawn(o.pythonPath ?? '/usr/bin/python3', args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.child = child;
    live.add(child);
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_TAIL_BYTES);
    });
    child.once('exit', () => {
      live.delete(child);
      if (this.child === child) this.child = null;
    });
    try {
      this.boundPort = await this.waitReady(child, o.readyTimeoutMs ?? 20_000);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /**
   * Freezes the server (SIGSTOP): connections stay open but nothing is sent or answered, like a hung camera, which
   * only a watchdog notices. `resume()` continues where it stopped.
   */
  pause(): void {
    if (!this.child) throw new Error('RTSP server is not running');
    this.child.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (!this.child) throw new Error('RTSP server is not running');
    this.child.kill('SIGCONT');
    this.paused = false;
  }

  /** SIGTERM, then SIGKILL if the server has not exited after a grace period. Resolves once it has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    // A stopped process only acts on SIGTERM once continued.
    if (this.paused) child.kill('SIGCONT');
    this.paused = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  private waitReady(child: ChildProcess, timeoutMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let stdout = '';
      const cleanup = (): void => {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
      };
      const onData = (chunk: Buffer): void => {
        stdout += chunk.toString();
        const match = /^READY (\d+)$/m.exec(stdout);
        if (match) {
          cleanup();
          resolve(Number(match[1]));
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        cleanup();
        reject(
          new Error(`RTSP server exited before it was ready (${signal ?? `code ${code}`}): ${this.stderrTail.trim()}`),
        );
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`RTSP server not ready after ${timeoutMs} ms: ${this.stderrTail.trim()}`));
      }, timeoutMs);
      child.stdout?.on('data', onData);
      child.once('exit', onExit);
    });
  }
}
