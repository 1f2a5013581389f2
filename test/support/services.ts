import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';

/** The machine's Mosquitto (BRIEF §7); tests that need special broker config start their own. */
export const MOSQUITTO_URL = process.env.VIGIL_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
/** The machine's Redis (socket.io's adapter across centre replicas). */
export const REDIS_URL = process.env.VIGIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const POSTGRES_URL = process.env.VIGIL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A short random id, valid in topics, so parallel or repeated runs never see each other's messages. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A loopback TCP port nothing listens on (bound, then released): for a server a test starts, or to find none. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls until `check` returns a value or the deadline passes (then throws with `what`). */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
