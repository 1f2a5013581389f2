import type { CreateUserRequest, Role, UpdateUserRequest, User } from '@vigil/contracts';
import { AppError, AppErrorCode } from '../common/app-error';
import { hashPassword } from '../auth/password';
import { ALL_SITE_ROLES } from '../auth/token.service';
import type { RefreshTokenRepository } from './refresh-token.repository';
import { UsernameTakenError, type UserRepository, type UserRow } from './user.repository';

/** A stored user as the API shows it. */
export function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    displayName: row.displayName,
    role: row.role,
    language: row.language,
    siteIds: row.siteIds,
    allSites: ALL_SITE_ROLES.includes(row.role),
    disabled: row.disabled,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** User management (admin API, CLI, first admin at start-up). */
export class UsersService {
  constructor(
    private readonly users: UserRepository,
    private readonly refreshTokens: RefreshTokenRepository,
  ) {}

  async list(): Promise<User[]> {
    return (await this.users.list()).map(toUser);
  }

  async get(id: string): Promise<User> {
    const row = await this.users.findById(id);
    if (!row) throw new AppError(AppErrorCode.NOT_FOUND, `no user ${id}`);
    return toUser(row);
  }

  async create(req: CreateUserRequest): Promise<User> {
    try {
      const row = await this.users.create({
        username: req.username,
        displayName: req.displayName ?? req.username,
        passwordHash: await hashPassword(req.password),
        role: req.role,
        language: req.language,
        siteIds: req.siteIds,
      });
      return toUser(row);
    } catch (err) {
      if (err instanceof UsernameTakenError)
        throw new AppError(AppErrorCode.CONFLICT, err.message, [{ in: 'body', path: 'username', message: 'taken' }]);
      throw err;
    }
  }

  /**
   * Applies an admin's change. The last enabled admin cannot be demoted or disabled (nobody could manage users
   * afterwards). A password reset or disabling ends the user's sessions (their refresh tokens are revoked; access
   * tokens already issued run out within ACCESS_TOKEN_TTL_S).
   */
  async update(id: string, req: UpdateUserRequest): Promise<User> {
    const current = await this.users.findById(id);
    if (!current) throw new AppError(AppErrorCode.NOT_FOUND, `no user ${id}`);
    const losesAdmin =
      current.role === 'admin' && !current.disabled && ((req.role && req.role !== 'admin') || req.disabled === true);
    if (losesAdmin && (await this.users.countEnabledAdmins()) <= 1)
      throw new AppError(AppErrorCode.CONFLICT, 'the last enabled admin cannot be demoted or disabled');
    const row = await this.users.update(id, {
      displayName: req.displayName,
      role: req.role,
      language: req.language,
      disabled: req.disabled,
      siteIds: req.siteIds,
      passwordHash: req.password !== undefined ? await hashPassword(req.password) : undefined,
    });
    if (!row) throw new AppError(AppErrorCode.NOT_FOUND, `no user ${id}`);
    if (req.password !== undefined || req.disabled === true) await this.refreshTokens.revokeAllOf(id);
    return toUser(row);
  }

  /** Creates the configured first admin when no enabled admin exists; says what it did. */
  async ensureFirstAdmin(admin: { username: string; password: string }): Promise<'created' | 'exists'> {
    if ((await this.users.countEnabledAdmins()) > 0) return 'exists';
    await this.create({
      username: admin.username,
      password: admin.password,
      role: 'admin' satisfies Role,
      language: 'en',
      siteIds: [],
    });
    return 'created';
  }
}
