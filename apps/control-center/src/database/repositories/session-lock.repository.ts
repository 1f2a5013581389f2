import type { PoolClient } from 'pg';

/** A PostgreSQL advisory lock key: two 32-bit integers (`'VIGI'` and a number per purpose). */
export type LockKey = readonly [number, number];

/**
 * Session advisory locks, so that centre instances sharing a server take turns (migrations, housekeeping). A session
 * lock belongs to one connection: take and release it on the same checked-out client.
 */
export class SessionLockRepository {
  constructor(private readonly client: PoolClient) {}

  /** Waits until the lock is free. */
  async lock(key: LockKey): Promise<void> {
    await this.client.query('SELECT pg_advisory_lock($1, $2)', [...key]);
  }

  /** Takes the lock if it is free; false when another session holds it. */
  async tryLock(key: LockKey): Promise<boolean> {
    const { rows } = await this.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [...key]);
    return rows[0].ok;
  }

  async unlock(key: LockKey): Promise<void> {
    await this.client.query('SELECT pg_advisory_unlock($1, $2)', [...key]);
  }
}
