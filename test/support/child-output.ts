import type { ChildProcess } from 'node:child_process';

/**
 * Collects a child's stdout and stderr into `into`, keeping its last `max` chunks (a quarter is dropped at a time),
 * for the error a test reports when the child misbehaves.
 */
export function keepOutput(child: ChildProcess, into: string[], max: number): void {
  const keep = (b: Buffer) => {
    into.push(b.toString());
    if (into.length > max) into.splice(0, Math.ceil(max / 4));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
}

/** Sends `signal` and resolves once the child has exited; at once when there is none or it has already exited. */
export function killAndWait(child: ChildProcess | null, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
