import { Module } from '@nestjs/common';
import type { Logger } from '../common/logger';
import { APP_CONFIG, LOGGER } from '../common/tokens';
import type { AppConfig } from '../config/app-config';
import { DatabaseModule } from '../database/database.module';
import { DATABASE } from '../database/database.tokens';
import type { Database } from '../database/database.types';
import { FirstAdmin } from './first-admin';
import { RefreshTokenRepository } from './refresh-token.repository';
import { UserRepository } from './user.repository';
import { MeController, UsersController } from './users.controller';
import { UsersService } from './users.service';

/** Users, their roles and sites, their sessions' refresh tokens; the admin API and `GET /api/me`. */
@Module({
  imports: [DatabaseModule],
  controllers: [UsersController, MeController],
  providers: [
    { provide: UserRepository, inject: [DATABASE], useFactory: (db: Database) => new UserRepository(db) },
    {
      provide: RefreshTokenRepository,
      inject: [DATABASE],
      useFactory: (db: Database) => new RefreshTokenRepository(db),
    },
    {
      provide: UsersService,
      inject: [UserRepository, RefreshTokenRepository],
      useFactory: (users: UserRepository, tokens: RefreshTokenRepository) => new UsersService(users, tokens),
    },
    {
      provide: FirstAdmin,
      inject: [UsersService, APP_CONFIG, LOGGER],
      useFactory: (users: UsersService, config: AppConfig, logger: Logger) =>
        new FirstAdmin(users, config, logger.child({ c: 'users' })),
    },
  ],
  exports: [UserRepository, RefreshTokenRepository, UsersService],
})
export class UsersModule {}
