import { JwtService } from '@nestjs/jwt';
import { ROLES, type Role } from '@vigil/contracts';
import { createHash, randomBytes } from 'node:crypto';
import type { AuthUser } from './auth.decorators';

/** Roles that see every site whatever the user's site list says. */
export const ALL_SITE_ROLES: readonly Role[] = ['admin', 'auditor'];

/** What an access token carries: enough to authorise a request without a database read. */
interface AccessClaims {
  sub: string;
  username: string;
  role: Role;
  sites: string[];
}

const ISSUER = 'vigil-centre';
const AUDIENCE = 'vigil-api';

/**
 * Access tokens (HS256 JWTs, short-lived, verified on every request by the global guard) and refresh tokens
 * (random 256-bit strings, stored hashed, rotated on use).
 */
export class TokenService {
  private readonly jwt: JwtService;

  constructor(
    secret: string,
    readonly accessTtlS: number,
    readonly refreshTtlMs: number,
  ) {
    this.jwt = new JwtService({ secret });
  }

  signAccess(user: { id: string; username: string; role: Role; siteIds: readonly string[] }): string {
    const claims: AccessClaims = { sub: user.id, username: user.username, role: user.role, sites: [...user.siteIds] };
    return this.jwt.sign(claims, {
      expiresIn: this.accessTtlS,
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithm: 'HS256',
    });
  }

  /** The user an access token stands for; null when it is forged, expired, malformed or not ours. */
  verifyAccess(token: string): AuthUser | null {
    let claims: Partial<AccessClaims>;
    try {
      claims = this.jwt.verify<AccessClaims>(token, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
    } catch {
      return null;
    }
    const { sub, username, role, sites } = claims;
    if (
      typeof sub !== 'string' ||
      typeof username !== 'string' ||
      !ROLES.includes(role as Role) ||
      !Array.isArray(sites) ||
      !sites.every((s) => typeof s === 'string')
    )
      return null;
    return { id: sub, username, role: role!, siteIds: sites, allSites: ALL_SITE_ROLES.includes(role!) };
  }

  /** A new refresh token: the value for the cookie and the hash to store. */
  newRefresh(): { token: string; hash: Buffer; expiresAt: Date } {
    const token = randomBytes(32).toString('base64url');
    return { token, hash: TokenService.hashRefresh(token), expiresAt: new Date(Date.now() + this.refreshTtlMs) };
  }

  static hashRefresh(token: string): Buffer {
    return createHash('sha256').update(token).digest();
  }
}
