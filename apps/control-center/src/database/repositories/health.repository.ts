import type { Database } from '../database.types';

/** The readiness probe's statement. */
export class HealthRepository {
  constructor(private readonly db: Pick<Database, 'pool'>) {}

  /** True when a trivial statement answers within `timeoutMs`; never throws (a dead server is simply not ready). */
  async ping(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const query = this.db.pool.query('SELECT 1').then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([query, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
