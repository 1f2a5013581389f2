import type { OnModuleInit } from '@nestjs/common';
import type { Logger } from '../common/logger';
import type { AppConfig } from '../config/app-config';
import type { UsersService } from './users.service';

/** At start-up, the admin named by ADMIN_USERNAME/ADMIN_PASSWORD(_FILE), when configured and no admin exists. */
export class FirstAdmin implements OnModuleInit {
  constructor(
    private readonly users: UsersService,
    private readonly config: AppConfig,
    private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    const admin = this.config.auth.admin;
    if (!admin) return;
    const outcome = await this.users.ensureFirstAdmin(admin);
    if (outcome === 'created') this.logger.info({ username: admin.username }, 'first admin created from configuration');
  }
}
