import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { Role } from '@vigil/contracts';
import type { Request } from 'express';
import { AppError, AppErrorCode } from '../common/app-error';
import { PUBLIC_KEY, ROLES_KEY, type AuthUser } from './auth.decorators';
import type { TokenService } from './token.service';

/**
 * The access policy a handler declares, else its controller's (the more specific one wins whole: `@Allow` on a
 * handler of a `@Public` controller restricts it); null when neither declares one.
 */
export function policyOf(
  reflector: Reflector,
  handler: object,
  controller: object,
): { public: true } | { roles: readonly Role[] } | null {
  for (const target of [handler, controller] as Parameters<Reflector['get']>[1][]) {
    if (reflector.get<boolean | undefined>(PUBLIC_KEY, target)) return { public: true };
    const roles = reflector.get<Role[] | undefined>(ROLES_KEY, target);
    if (roles) return roles.length > 0 ? { roles } : null;
  }
  return null;
}

/** The bearer token of a request, if it has exactly one well-formed Authorization header. */
function bearerOf(req: Request): string | undefined {
  const header = req.headers.authorization;
  const m = header ? /^Bearer ([A-Za-z0-9_\-.]{1,4096})$/.exec(header) : null;
  return m?.[1];
}

/**
 * The global guard: deny by default. A route without `@Public()` or `@Allow(...)` is refused to everyone (403)
 * — and the centre refuses to start with one (RoutePolicyCheck). Otherwise: no or a bad access token is 401, a
 * role outside the route's list 403; the user is set on the request for `@CurrentUser()`.
 */
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const policy = policyOf(this.reflector, context.getHandler(), context.getClass());
    if (policy && 'public' in policy) return true;
    if (context.getType() !== 'http') return false; // other transports authenticate in their own adapters
    if (!policy) throw new AppError(AppErrorCode.FORBIDDEN, 'this route has no access policy');
    const req = context.switchToHttp().getRequest<Request & { user?: AuthUser }>();
    const token = bearerOf(req);
    if (!token) throw new AppError(AppErrorCode.UNAUTHENTICATED, 'sign in first (Authorization: Bearer <token>)');
    const user = this.tokens.verifyAccess(token);
    if (!user) throw new AppError(AppErrorCode.UNAUTHENTICATED, 'access token invalid or expired');
    if (!policy.roles.includes(user.role))
      throw new AppError(AppErrorCode.FORBIDDEN, `role ${user.role} may not use this route`);
    req.user = user;
    return true;
  }
}
