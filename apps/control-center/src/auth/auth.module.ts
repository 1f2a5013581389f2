import { Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import cookieParser from 'cookie-parser';
import type { Logger } from '../common/logger';
import { APP_CONFIG, LOGGER } from '../common/tokens';
import type { AppConfig } from '../config/app-config';
import { RefreshTokenRepository } from '../users/refresh-token.repository';
import { UserRepository } from '../users/user.repository';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { resolveJwtSecret } from './jwt-secret';
import { LoginThrottle } from './login-throttle';
import { RefreshTokenJanitor } from './refresh-token.janitor';
import { RoutePolicyCheck } from './route-policy.check';
import { TokenService } from './token.service';

/**
 * Sign-in (login, refresh, logout) and the global, deny-by-default guard of every route. Imported by AppModule;
 * its guard applies to every module's controllers.
 */
@Module({
  imports: [UsersModule, DiscoveryModule],
  controllers: [AuthController],
  providers: [
    {
      provide: TokenService,
      inject: [APP_CONFIG, LOGGER],
      useFactory: (config: AppConfig, logger: Logger) =>
        new TokenService(
          resolveJwtSecret(config.auth.jwtSecret, config.database.dataDir, logger.child({ c: 'auth' })),
          config.auth.accessTokenTtlS,
          config.auth.refreshTokenTtlH * 3_600_000,
        ),
    },
    {
      provide: LoginThrottle,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new LoginThrottle(config.auth.loginMaxFailuresPerUser, config.auth.loginMaxFailuresPerIp),
    },
    {
      provide: AuthService,
      inject: [UserRepository, RefreshTokenRepository, TokenService, LoginThrottle],
      useFactory: (users: UserRepository, refresh: RefreshTokenRepository, tokens: TokenService, t: LoginThrottle) =>
        new AuthService(users, refresh, tokens, t),
    },
    {
      provide: APP_GUARD,
      inject: [Reflector, TokenService],
      useFactory: (reflector: Reflector, tokens: TokenService) => new AuthGuard(reflector, tokens),
    },
    {
      provide: RoutePolicyCheck,
      inject: [DiscoveryService, MetadataScanner, Reflector],
      useFactory: (d: DiscoveryService, s: MetadataScanner, r: Reflector) => new RoutePolicyCheck(d, s, r),
    },
    {
      provide: RefreshTokenJanitor,
      inject: [RefreshTokenRepository, LOGGER],
      useFactory: (tokens: RefreshTokenRepository, logger: Logger) =>
        new RefreshTokenJanitor(tokens, logger.child({ c: 'auth' })),
    },
  ],
  exports: [TokenService],
})
export class AuthModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // Only sign-in reads cookies (the refresh token, scoped to /api/auth); every other route takes a bearer token.
    consumer.apply(cookieParser()).forRoutes(AuthController);
  }
}
