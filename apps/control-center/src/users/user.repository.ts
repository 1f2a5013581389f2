import type { Language, Role } from '@vigil/contracts';
import type { Database } from '../database/database.types';

/** A stored user with its sites (the password hash only leaves through `credentialsOf`). */
export interface UserRow {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  language: Language;
  disabled: boolean;
  siteIds: string[];
  createdAt: Date;
  updatedAt: Date;
}

interface DbRow {
  id: string;
  username: string;
  display_name: string;
  role: Role;
  language: Language;
  disabled: boolean;
  site_ids: string[];
  created_at: Date;
  updated_at: Date;
}

const SELECT = `
  SELECT u.id, u.username, u.display_name, u.role, u.language, u.disabled, u.created_at, u.updated_at,
         COALESCE(array_agg(s.site_id ORDER BY s.site_id) FILTER (WHERE s.site_id IS NOT NULL), '{}') AS site_ids
    FROM users u LEFT JOIN user_sites s ON s.user_id = u.id`;

const toRow = (r: DbRow): UserRow => ({
  id: r.id,
  username: r.username,
  displayName: r.display_name,
  role: r.role,
  language: r.language,
  disabled: r.disabled,
  siteIds: r.site_ids,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface NewUser {
  username: string;
  displayName: string;
  passwordHash: string;
  role: Role;
  language: Language;
  siteIds: readonly string[];
}

export interface UserChanges {
  displayName?: string;
  role?: Role;
  language?: Language;
  disabled?: boolean;
  passwordHash?: string;
  siteIds?: readonly string[];
}

/** Thrown by `create` when the username is taken (unique violation). */
export class UsernameTakenError extends Error {
  override readonly name = 'UsernameTakenError';
}

/** Users and their sites. */
export class UserRepository {
  constructor(private readonly db: Database) {}

  async list(): Promise<UserRow[]> {
    const { rows } = await this.db.pool.query<DbRow>(`${SELECT} GROUP BY u.id ORDER BY u.username`);
    return rows.map(toRow);
  }

  async findById(id: string): Promise<UserRow | null> {
    const { rows } = await this.db.pool.query<DbRow>(`${SELECT} WHERE u.id = $1 GROUP BY u.id`, [id]);
    return rows[0] ? toRow(rows[0]) : null;
  }

  /** The user and password hash for a login (null when no such user). */
  async credentialsOf(username: string): Promise<{ user: UserRow; passwordHash: string } | null> {
    const { rows } = await this.db.pool.query<DbRow & { password_hash: string }>(
      `${SELECT.replace('u.updated_at,', 'u.updated_at, u.password_hash,')} WHERE u.username = $1 GROUP BY u.id`,
      [username],
    );
    return rows[0] ? { user: toRow(rows[0]), passwordHash: rows[0].password_hash } : null;
  }

  async countEnabledAdmins(): Promise<number> {
    const { rows } = await this.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND NOT disabled`,
    );
    return rows[0].n;
  }

  async create(user: NewUser): Promise<UserRow> {
    let id: string;
    const client = await this.db.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO users (username, display_name, password_hash, role, language)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO NOTHING RETURNING id`,
        [user.username, user.displayName, user.passwordHash, user.role, user.language],
      );
      if (!rows[0]) throw new UsernameTakenError(`username "${user.username}" is taken`);
      await client.query(`INSERT INTO user_sites (user_id, site_id) SELECT $1, unnest($2::text[])`, [
        rows[0].id,
        user.siteIds,
      ]);
      await client.query('COMMIT');
      id = rows[0].id;
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
    // Read back once the connection is released: the embedded database's pool has exactly one.
    return (await this.findById(id))!;
  }

  /** Applies `changes`; null when no such user. */
  async update(id: string, changes: UserChanges): Promise<UserRow | null> {
    const client = await this.db.pool.connect();
    try {
      await client.query('BEGIN');
      const { rowCount } = await client.query(
        `UPDATE users SET display_name = COALESCE($2, display_name), role = COALESCE($3, role),
                language = COALESCE($4, language), disabled = COALESCE($5, disabled),
                password_hash = COALESCE($6, password_hash), updated_at = now()
          WHERE id = $1`,
        [
          id,
          changes.displayName ?? null,
          changes.role ?? null,
          changes.language ?? null,
          changes.disabled ?? null,
          changes.passwordHash ?? null,
        ],
      );
      if (rowCount === 0) {
        await client.query('ROLLBACK');
        return null;
      }
      if (changes.siteIds) {
        await client.query('DELETE FROM user_sites WHERE user_id = $1', [id]);
        await client.query(`INSERT INTO user_sites (user_id, site_id) SELECT $1, unnest($2::text[])`, [
          id,
          changes.siteIds,
        ]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
    return this.findById(id);
  }
}
