import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { keepOutput, killAndWait } from './child-output';

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
    keepOutput(child, this.output, 2000);
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
    return killAndWait(child, signal);
  }
}
