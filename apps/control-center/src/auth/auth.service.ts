import type { TokenResponse } from '@vigil/contracts';
import { AppError, AppErrorCode } from '../common/app-error';
import type { RefreshTokenRepository } from '../users/refresh-token.repository';
import type { UserRepository } from '../users/user.repository';
import { toUser } from '../users/users.service';
import { randomUUID } from 'node:crypto';
import type { LoginThrottle } from './login-throttle';
import { timingDummyHash, verifyPassword } from './password';
import { TokenService } from './token.service';

/** The same words for every refused login: nothing says whether the username or the password was wrong. */
const BAD_CREDENTIALS = 'invalid username or password';

export interface Session {
  body: TokenResponse;
  refreshToken: string;
  refreshExpiresAt: Date;
}

/** Thrown for a throttled login; the controller turns `retryAfterS` into the Retry-After header. */
export class LoginThrottledError extends AppError {
  constructor(readonly retryAfterS: number) {
    super(AppErrorCode.RATE_LIMITED, `too many failed logins, try again in ${retryAfterS} s`);
  }
}

/** Login, refresh-token rotation, logout. */
export class AuthService {
  constructor(
    private readonly users: UserRepository,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly tokens: TokenService,
    private readonly throttle: LoginThrottle,
  ) {}

  async login(usernameIn: string, password: string, ip: string): Promise<Session> {
    const username = usernameIn.toLowerCase();
    const wait = this.throttle.retryAfterS(username, ip);
    if (wait > 0) throw new LoginThrottledError(wait);
    const found = await this.users.credentialsOf(username);
    const ok = await verifyPassword(found?.passwordHash ?? (await timingDummyHash()), password);
    if (!found || !ok || found.user.disabled) {
      this.throttle.recordFailure(username, ip);
      throw new AppError(AppErrorCode.UNAUTHENTICATED, BAD_CREDENTIALS);
    }
    this.throttle.recordSuccess(username);
    const refresh = this.tokens.newRefresh();
    await this.refreshTokens.insert({
      userId: found.user.id,
      familyId: randomUUID(),
      tokenHash: refresh.hash,
      expiresAt: refresh.expiresAt,
    });
    return this.session(found.user.id, refresh);
  }

  /** Rotates the refresh token: the presented one is revoked, a new one issued (a replayed one ends the family). */
  async refresh(token: string | undefined): Promise<Session> {
    if (!token) throw new AppError(AppErrorCode.UNAUTHENTICATED, 'no refresh token');
    const refresh = this.tokens.newRefresh();
    const outcome = await this.refreshTokens.rotate(TokenService.hashRefresh(token), (userId, familyId) => ({
      userId,
      familyId,
      tokenHash: refresh.hash,
      expiresAt: refresh.expiresAt,
    }));
    if (!outcome.ok) {
      const why = outcome.reason === 'reused' ? 'refresh token already used; sign in again' : 'sign in again';
      throw new AppError(AppErrorCode.UNAUTHENTICATED, why);
    }
    return this.session(outcome.userId, refresh);
  }

  async logout(token: string | undefined): Promise<void> {
    if (token) await this.refreshTokens.revokeFamilyOf(TokenService.hashRefresh(token));
  }

  private async session(userId: string, refresh: { token: string; expiresAt: Date }): Promise<Session> {
    const user = await this.users.findById(userId);
    if (!user || user.disabled) {
      await this.refreshTokens.revokeAllOf(userId);
      throw new AppError(AppErrorCode.UNAUTHENTICATED, 'sign in again');
    }
    return {
      body: {
        accessToken: this.tokens.signAccess(user),
        tokenType: 'Bearer',
        expiresIn: this.tokens.accessTtlS,
        user: toUser(user),
      },
      refreshToken: refresh.token,
      refreshExpiresAt: refresh.expiresAt,
    };
  }
}
