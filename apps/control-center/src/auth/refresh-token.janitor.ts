import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Logger } from '../common/logger';
import type { RefreshTokenRepository } from '../users/refresh-token.repository';

/** Deletes long-expired refresh tokens at start-up and hourly (the table would otherwise only grow). */
export class RefreshTokenJanitor implements OnModuleInit, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly tokens: RefreshTokenRepository,
    private readonly logger: Logger,
    private readonly intervalMs = 3_600_000,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.run(), this.intervalMs);
    this.timer.unref();
    void this.run();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private async run(): Promise<void> {
    try {
      const purged = await this.tokens.purgeExpired();
      if (purged > 0) this.logger.debug({ purged }, 'expired refresh tokens deleted');
    } catch (err) {
      this.logger.warn({ err }, 'purging expired refresh tokens failed; next try in an hour');
    }
  }
}
