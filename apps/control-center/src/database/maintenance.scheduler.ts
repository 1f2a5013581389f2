import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { Database, DatabaseLogger } from './database.types';

/**
 * The one schedule of database housekeeping: a pass every `intervalMs` while the application runs (the first one
 * interval after start-up, so it never competes with the first ingest batches for the embedded database's one
 * connection). A pass still going when the next is due is not doubled (MaintenanceService joins it).
 */
export class MaintenanceScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private last: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Pick<Database, 'runMaintenance'>,
    private readonly intervalMs: number,
    private readonly logger: DatabaseLogger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.last = this.db
        .runMaintenance()
        .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'database maintenance failed'));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Stops the schedule and waits for a pass in progress, before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.last;
  }
}
