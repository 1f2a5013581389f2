import type { Database, DatabaseLogger } from './database.types';
import { MaintenanceRepository } from './repositories/maintenance.repository';
import { partitionsOf, type PartitionRepository } from './repositories/partition.repository';
import { RetentionPolicyRepository } from './repositories/retention-policy.repository';

/** Plain PostgreSQL keeps this many daily partitions ready ahead of today (and one behind, for late data). */
export const PARTITION_DAYS_AHEAD = 7;
export const PARTITION_DAYS_BACK = 1;

/** Session lock that lets one centre instance at a time do housekeeping on a shared server. */
const MAINTENANCE_LOCK = [0x56494749, 3];

export interface MaintenanceReport {
  /** False when another instance held the maintenance lock (nothing was done). */
  ran: boolean;
  /** TimescaleDB policy jobs run by hand (embedded only: a server's background workers run them). */
  jobs: string[];
  partitionsCreated: string[];
  partitionsDropped: string[];
  /** Dirty 15-minute buckets recomputed into the rollups. */
  rollupBuckets: number;
  /** Rows deleted by retention, per table. */
  purged: Record<string, number>;
  durationMs: number;
}

/**
 * Housekeeping the database cannot do for itself, per flavour:
 * - embedded TimescaleDB (no background workers): refresh the continuous aggregates and run the compression and
 *   retention policies by hand (`CALL run_job`);
 * - TimescaleDB server: nothing of that (its job scheduler does it);
 * - plain PostgreSQL: create daily partitions ahead, refresh the flow rollups, drop expired partitions;
 * - every flavour: row-level retention of the small tables (evidence images after 72 h unless kept, dead letters,
 *   stale delivery state, old event state, config acks).
 */
export class MaintenanceService {
  private readonly repo: MaintenanceRepository;
  private readonly partitions: PartitionRepository;
  private readonly retention: RetentionPolicyRepository;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<MaintenanceReport> | null = null;

  constructor(
    private readonly db: Pick<Database, 'pool' | 'flavour' | 'embedded'>,
    private readonly logger: DatabaseLogger,
  ) {
    this.repo = new MaintenanceRepository(db);
    this.partitions = partitionsOf(db);
    this.retention = new RetentionPolicyRepository(db);
  }

  /** Runs now, then every `intervalMs`; a run still going when the next is due is not doubled. */
  start(intervalMs: number): void {
    if (this.timer) return;
    const tick = () => {
      this.runMaintenance().catch((err: unknown) =>
        this.logger.error({ err: (err as Error).message }, 'database maintenance failed'),
      );
    };
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  /** Stops the schedule and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** One full pass. `now` moves retention's clock (tests); TimescaleDB's own policies always use the server's. */
  runMaintenance(now = new Date()): Promise<MaintenanceReport> {
    this.running ??= this.locked(now).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async locked(now: Date): Promise<MaintenanceReport> {
    // The embedded database has one connection and one process (its data directory is locked): no lock needed,
    // and holding its only connection for the whole pass would stall ingest.
    if (this.db.embedded) return this.pass(now);
    const client = await this.db.pool.connect();
    try {
      const { rows } = await client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock($1, $2) AS ok',
        MAINTENANCE_LOCK,
      );
      if (!rows[0].ok) {
        return {
          ran: false,
          jobs: [],
          partitionsCreated: [],
          partitionsDropped: [],
          rollupBuckets: 0,
          purged: {},
          durationMs: 0,
        };
      }
      try {
        return await this.pass(now);
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, $2)', MAINTENANCE_LOCK);
      }
    } finally {
      client.release();
    }
  }

  private async pass(now: Date): Promise<MaintenanceReport> {
    const started = Date.now();
    const report: MaintenanceReport = {
      ran: true,
      jobs: [],
      partitionsCreated: [],
      partitionsDropped: [],
      rollupBuckets: 0,
      purged: {},
      durationMs: 0,
    };
    if (this.db.flavour === 'timescaledb' && this.db.embedded) {
      for (const job of await this.repo.policyJobs()) {
        await this.repo.runJob(job.jobId);
        report.jobs.push(`${job.proc}:${job.relation ?? '-'}`);
      }
    }
    if (this.db.flavour === 'postgres') {
      report.partitionsCreated = await this.partitions.ensureAround(now, PARTITION_DAYS_BACK, PARTITION_DAYS_AHEAD);
      report.rollupBuckets = await this.repo.refreshRollups();
      report.partitionsDropped = await this.partitions.dropExpired(now, await this.retention.load());
      Object.assign(report.purged, await this.repo.purgeRollups(now));
    }
    Object.assign(report.purged, await this.repo.purgeRows(now));
    report.durationMs = Date.now() - started;
    this.logger.debug({ ...report }, 'database maintenance done');
    return report;
  }
}
