import type { Database, DatabaseLogger, MaintenanceReport } from './database.types';
import { MaintenanceRepository } from './repositories/maintenance.repository';
import { partitionsOf, type PartitionRepository } from './repositories/partition.repository';
import { RetentionPolicyRepository } from './repositories/retention-policy.repository';
import { SessionLockRepository, type LockKey } from './repositories/session-lock.repository';

/** Plain PostgreSQL keeps this many daily partitions ready ahead of today (and one behind, for late data). */
export const PARTITION_DAYS_AHEAD = 7;
export const PARTITION_DAYS_BACK = 1;

/** Session lock that lets one centre instance at a time do housekeeping on a shared server. */
const MAINTENANCE_LOCK: LockKey = [0x56494749, 3];

/**
 * Housekeeping the database cannot do for itself, per flavour:
 * - embedded TimescaleDB (no background workers): refresh the continuous aggregates and run the compression and
 *   retention policies by hand (`CALL run_job`);
 * - TimescaleDB server: nothing of that (its job scheduler does it);
 * - plain PostgreSQL: create daily partitions ahead, refresh the flow rollups, drop expired partitions;
 * - every flavour: row-level retention of the small tables (evidence images after 72 h unless kept, dead letters,
 *   stale delivery state, old event state, config acks).
 *
 * One instance per open database (`Database.runMaintenance`); the schedule is MaintenanceScheduler's alone.
 */
export class MaintenanceService {
  private readonly repo: MaintenanceRepository;
  private readonly partitions: PartitionRepository;
  private readonly retention: RetentionPolicyRepository;
  private running: Promise<MaintenanceReport> | null = null;

  constructor(
    private readonly db: Pick<Database, 'pool' | 'flavour' | 'embedded'>,
    private readonly logger: DatabaseLogger,
  ) {
    this.repo = new MaintenanceRepository(db);
    this.partitions = partitionsOf(db);
    this.retention = new RetentionPolicyRepository(db);
  }

  /** Resolves once no pass is in progress (the database waits for it before it closes). */
  async whenIdle(): Promise<void> {
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
    const locks = new SessionLockRepository(client);
    try {
      if (!(await locks.tryLock(MAINTENANCE_LOCK))) {
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
        await locks.unlock(MAINTENANCE_LOCK);
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
