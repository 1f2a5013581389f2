import type { Database } from '../database/database.types';

export interface NewRefreshToken {
  userId: string;
  familyId: string;
  tokenHash: Buffer;
  expiresAt: Date;
}

/** What happened to a presented refresh token. */
export type RotateOutcome =
  { ok: true; userId: string; familyId: string } | { ok: false; reason: 'unknown' | 'expired' | 'reused' };

/** Refresh tokens, stored as sha256 only. */
export class RefreshTokenRepository {
  constructor(private readonly db: Database) {}

  async insert(t: NewRefreshToken): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)`,
      [t.userId, t.familyId, t.tokenHash, t.expiresAt],
    );
  }

  /**
   * Atomically revokes the token with `oldHash` and stores `next` in its family. A token already revoked is a
   * replay (someone holds a copy): its whole family is revoked, so the thief's and the owner's sessions both end.
   */
  async rotate(oldHash: Buffer, next: (userId: string, familyId: string) => NewRefreshToken): Promise<RotateOutcome> {
    const client = await this.db.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{
        user_id: string;
        family_id: string;
        revoked: boolean;
        expired: boolean;
      }>(
        `SELECT user_id, family_id, revoked_at IS NOT NULL AS revoked, expires_at <= now() AS expired
           FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
        [oldHash],
      );
      const row = rows[0];
      let outcome: RotateOutcome;
      if (!row) outcome = { ok: false, reason: 'unknown' };
      else if (row.revoked) {
        await client.query('UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL', [
          row.family_id,
        ]);
        outcome = { ok: false, reason: 'reused' };
      } else if (row.expired) outcome = { ok: false, reason: 'expired' };
      else {
        await client.query('UPDATE refresh_tokens SET revoked_at = now() WHERE token_hash = $1', [oldHash]);
        const t = next(row.user_id, row.family_id);
        await client.query(
          `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)`,
          [t.userId, t.familyId, t.tokenHash, t.expiresAt],
        );
        outcome = { ok: true, userId: row.user_id, familyId: row.family_id };
      }
      await client.query('COMMIT');
      return outcome;
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
  }

  /** Logout: the family of this token ends. */
  async revokeFamilyOf(tokenHash: Buffer): Promise<void> {
    await this.db.pool.query(
      `UPDATE refresh_tokens SET revoked_at = now()
        WHERE revoked_at IS NULL AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)`,
      [tokenHash],
    );
  }

  /** A password reset or a disabled account ends every session of the user. */
  async revokeAllOf(userId: string): Promise<void> {
    await this.db.pool.query('UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [
      userId,
    ]);
  }

  /** Housekeeping: tokens expired for a day are of no use, even as replay evidence. */
  async purgeExpired(): Promise<number> {
    const { rowCount } = await this.db.pool.query(
      `DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day'`,
    );
    return rowCount ?? 0;
  }
}
