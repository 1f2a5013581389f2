import { createHash, timingSafeEqual } from 'node:crypto';
import { child, text, attr } from './soap';

const PASSWORD_DIGEST =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';

export interface UsernameToken {
  username: string;
  password: string;
  passwordType: string | undefined;
  nonce: string | undefined;
  created: string | undefined;
}

export type TokenCheck = { ok: true } | { ok: false; reason: string };

/** Reads `Security/UsernameToken` out of a parsed SOAP header; undefined when absent. */
export function readUsernameToken(header: unknown): UsernameToken | undefined {
  const token = child(child(header, 'Security'), 'UsernameToken');
  if (token === undefined) return undefined;
  const password = child(token, 'Password');
  return {
    username: text(child(token, 'Username')) ?? '',
    password: text(password) ?? '',
    passwordType: attr(password, 'Type'),
    nonce: text(child(token, 'Nonce')),
    created: text(child(token, 'Created')),
  };
}

/** PasswordDigest = Base64(SHA-1(nonce bytes + Created + password)), WS-Security UsernameToken Profile 1.0 §3.1. */
export function passwordDigest(nonceBase64: string, created: string, password: string): string {
  return createHash('sha1')
    .update(
      Buffer.concat([Buffer.from(nonceBase64, 'base64'), Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]),
    )
    .digest('base64');
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Checks WS-UsernameToken digests like a camera with replay protection: the digest must match, `Created` must lie
 * within the allowed clock skew, and a nonce is accepted once while it could still be fresh. Plain-text passwords
 * are refused: they would cross the network in clear.
 */
export class UsernameTokenVerifier {
  private readonly seenNonces = new Map<string, number>();

  constructor(
    private readonly username: string,
    private readonly password: string,
    private readonly maxSkewMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  verify(token: UsernameToken | undefined): TokenCheck {
    if (!token) return { ok: false, reason: 'no UsernameToken' };
    if (token.passwordType !== PASSWORD_DIGEST) return { ok: false, reason: 'password type is not PasswordDigest' };
    if (!token.nonce || !token.created) return { ok: false, reason: 'Nonce or Created missing' };
    const created = Date.parse(token.created);
    const now = this.now();
    if (Number.isNaN(created)) return { ok: false, reason: 'Created is not a timestamp' };
    if (Math.abs(now - created) > this.maxSkewMs)
      return { ok: false, reason: 'Created outside the allowed clock skew' };
    const userOk = sameBytes(Buffer.from(token.username, 'utf8'), Buffer.from(this.username, 'utf8'));
    const expected = Buffer.from(passwordDigest(token.nonce, token.created, this.password), 'base64');
    const digestOk = sameBytes(Buffer.from(token.password, 'base64'), expected);
    if (!userOk || !digestOk) return { ok: false, reason: 'wrong user name or password' };
    this.forgetOldNonces(now);
    if (this.seenNonces.has(token.nonce)) return { ok: false, reason: 'nonce replayed' };
    this.seenNonces.set(token.nonce, created + this.maxSkewMs);
    return { ok: true };
  }

  private forgetOldNonces(now: number): void {
    for (const [nonce, expiresAt] of this.seenNonces) {
      if (expiresAt < now) this.seenNonces.delete(nonce);
    }
  }
}
