import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Role } from '@vigil/contracts';

/** Metadata keys read by the global guard (deny-by-default: a route with neither is refused). */
export const ROLES_KEY = 'vigil:roles';
export const PUBLIC_KEY = 'vigil:public';

/** The signed-in user a request acts as, from its access token. Site scope: the sites this user may see. */
export interface AuthUser {
  id: string;
  username: string;
  role: Role;
  /** Sites the user is scoped to; admins and auditors see every site (`allSites`). */
  siteIds: readonly string[];
  allSites: boolean;
}

/** The roles a route (or a whole controller) admits; anyone else gets 403, an anonymous caller 401. */
export const Allow = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** A route open without login (health probes, login itself, the public notice). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** The request's signed-in user (set by the global guard). */
export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthUser => {
  const req = ctx.switchToHttp().getRequest<{ user?: AuthUser }>();
  if (!req.user) throw new Error('CurrentUser used on a route without authentication');
  return req.user;
});

/** Whether `user` may see data of `siteId`. */
export function canSeeSite(user: AuthUser, siteId: string): boolean {
  return user.allSites || user.siteIds.includes(siteId);
}
