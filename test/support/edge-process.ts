import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

const ROOT = join(__dirname, '..', '..');

/** The edge agent as a real child process started from a settings file, as `edge --config` runs in production. */
export class EdgeProcess {
  private child: ChildProcess | null = null;
  readonly output: string[] = [];
  readonly settingsFile: string;

  constructor(
    settings: Record<string, unknown>,
    private readonly env: Record<string, string> = {},
    dir = mkdtempSync(join(tmpdir(), 'vigil-edge-')),
  ) {
    this.settingsFile = join(dir, 'edge.yaml');
    writeFileSync(this.settingsFile, stringify({ dataDir: join(dir, 'data'), ...settings }));
  }

  start(): void {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'edge/src/main.ts'), '--config', this.settingsFile],
      {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: 'info', ...this.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    const keep = (b: Buffer) => {
      this.output.push(b.toString());
      if (this.output.length > 2000) this.output.splice(0, 500);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  get log(): string {
    return this.output.join('');
  }

  get exited(): boolean {
    return this.child === null || this.child.exitCode !== null || this.child.signalCode !== null;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }
}
