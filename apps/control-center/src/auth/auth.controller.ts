import { Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import {
  LoginRequestSchema,
  REFRESH_COOKIE,
  REFRESH_COOKIE_PATH,
  TokenResponseSchema,
  type LoginRequest,
  type TokenResponse,
} from '@vigil/contracts';
import type { Request, Response } from 'express';
import { APP_CONFIG } from '../common/tokens';
import { Responds } from '../common/api-doc.decorators';
import { ValidBody } from '../common/zod-validation.pipe';
import type { AppConfig } from '../config/app-config';
import { Public } from './auth.decorators';
import { AuthService, LoginThrottledError, type Session } from './auth.service';

/** Sign-in for the console and API clients. */
@Controller('api/auth')
@Public()
export class AuthController {
  // Explicit tokens: `npm start` runs under tsx (esbuild), which emits no decorator metadata.
  constructor(
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Username and password -> access token (body) and refresh token (httpOnly cookie). */
  @Post('login')
  @HttpCode(200)
  @Responds(
    {
      status: 200,
      description: 'Access token; the refresh token in the vigil_refresh cookie',
      body: TokenResponseSchema,
    },
    { status: 429, description: 'RATE_LIMITED (Retry-After)' },
  )
  async login(
    @ValidBody(LoginRequestSchema) body: LoginRequest,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TokenResponse> {
    try {
      return this.withCookie(res, await this.auth.login(body.username, body.password, req.ip ?? 'unknown'));
    } catch (err) {
      if (err instanceof LoginThrottledError) res.setHeader('Retry-After', String(err.retryAfterS));
      throw err;
    }
  }

  /** The refresh cookie -> a new access token and a new refresh cookie (the old one is revoked). */
  @Post('refresh')
  @HttpCode(200)
  @Responds({ status: 200, description: 'A new access token and refresh cookie', body: TokenResponseSchema })
  async refresh(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<TokenResponse> {
    try {
      return this.withCookie(res, await this.auth.refresh(refreshCookieOf(req)));
    } catch (err) {
      this.clearCookie(res);
      throw err;
    }
  }

  /** Ends the session of the refresh cookie (access tokens already issued run out on their own). */
  @Post('logout')
  @HttpCode(204)
  @Responds({ status: 204, description: 'Session ended, cookie cleared' })
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.auth.logout(refreshCookieOf(req));
    this.clearCookie(res);
  }

  private withCookie(res: Response, session: Session): TokenResponse {
    res.cookie(REFRESH_COOKIE, session.refreshToken, {
      ...this.cookieOptions(),
      expires: session.refreshExpiresAt,
    });
    res.setHeader('Cache-Control', 'no-store');
    return session.body;
  }

  private clearCookie(res: Response): void {
    res.clearCookie(REFRESH_COOKIE, this.cookieOptions());
  }

  private cookieOptions() {
    return {
      httpOnly: true,
      sameSite: 'strict' as const,
      path: REFRESH_COOKIE_PATH,
      // Browsers drop Secure cookies on plain http: required in production, where TLS ends in front of the centre.
      secure: this.config.env === 'production',
    };
  }
}

function refreshCookieOf(req: Request): string | undefined {
  const value = (req.cookies as Record<string, unknown> | undefined)?.[REFRESH_COOKIE];
  return typeof value === 'string' && value.length > 0 && value.length <= 128 ? value : undefined;
}
