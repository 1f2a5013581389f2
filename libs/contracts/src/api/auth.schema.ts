import { z } from 'zod';
import { TextSchema } from '../common.schema';
import { USER_LIMITS, UserSchema } from './user.schema';

/**
 * `POST /api/auth/login`. The username is checked only for size here (its format is not revealed to a guesser);
 * a wrong username and a wrong password get the same 401.
 */
export const LoginRequestSchema = z.strictObject({
  username: TextSchema.min(1).max(USER_LIMITS.username),
  password: TextSchema.min(1).max(USER_LIMITS.passwordMax),
});
export type LoginRequest = z.infer<typeof LoginRequestSchema>;

/**
 * Answer of login and refresh: a short-lived access token for `Authorization: Bearer`, and the user. The refresh
 * token travels only in an httpOnly cookie (`REFRESH_COOKIE`), never in a body.
 */
export const TokenResponseSchema = z.object({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  /** Seconds until the access token expires. */
  expiresIn: z.number().int().positive(),
  user: UserSchema,
});
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

/** Name of the refresh-token cookie, scoped to `REFRESH_COOKIE_PATH`. */
export const REFRESH_COOKIE = 'vigil_refresh';
export const REFRESH_COOKIE_PATH = '/api/auth';
