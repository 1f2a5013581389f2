import type { MaintenanceReport } from './database.types';
import { MaintenanceScheduler } from './maintenance.scheduler';

describe('MaintenanceScheduler', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const report = { ran: true } as MaintenanceReport;
  const logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn(), debug: jest.fn() };

  it('runs one pass per interval from bootstrap, none at start-up, none after shutdown', async () => {
    const runMaintenance = jest.fn(() => Promise.resolve(report));
    const scheduler = new MaintenanceScheduler({ runMaintenance }, 60_000, logger);
    scheduler.onApplicationBootstrap();
    scheduler.onApplicationBootstrap(); // a second bootstrap does not add a second timer
    expect(runMaintenance).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(runMaintenance).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(120_000);
    expect(runMaintenance).toHaveBeenCalledTimes(3);
    await scheduler.beforeApplicationShutdown();
    await jest.advanceTimersByTimeAsync(600_000);
    expect(runMaintenance).toHaveBeenCalledTimes(3);
  });

  it('waits at shutdown for a pass in progress, and logs a failed pass without stopping the schedule', async () => {
    let finish!: () => void;
    const runMaintenance = jest
      .fn<Promise<MaintenanceReport>, []>()
      .mockRejectedValueOnce(new Error('lock timeout'))
      .mockImplementationOnce(() => new Promise((resolve) => (finish = () => resolve(report))));
    const scheduler = new MaintenanceScheduler({ runMaintenance }, 1000, logger);
    scheduler.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(1000);
    expect(logger.warn).toHaveBeenCalledWith({ err: 'lock timeout' }, 'database maintenance failed');
    await jest.advanceTimersByTimeAsync(1000);
    let stopped = false;
    const stopping = scheduler.beforeApplicationShutdown().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    expect(stopped).toBe(true);
  });
});
