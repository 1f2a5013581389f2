import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { AppError } from '../common/app-error';
import { Allow, Public, type AuthUser } from './auth.decorators';
import { AuthGuard } from './auth.guard';
import { RoutePolicyCheck, listRoutes } from './route-policy.check';
import { TokenService } from './token.service';

@Controller('open')
@Public()
class OpenController {
  @Get()
  get() {}

  @Get('staff')
  @Allow('operator')
  staff() {}
}

@Controller('things')
@Allow('admin', 'operator')
class ThingsController {
  @Get()
  list() {}

  @Get('secret')
  @Allow('admin')
  secret() {}
}

@Controller('forgotten')
class ForgottenController {
  @Get()
  get() {}
}

const tokens = new TokenService('guard-secret-0123456789abcdef0123456789', 900, 1000);
const id = '4b1c1f5e-5f9e-4a57-9d4f-1d2b0d3c4e5f';
const bearer = (role: AuthUser['role']) => `Bearer ${tokens.signAccess({ id, username: 'u', role, siteIds: ['s1'] })}`;

function context(controller: object, handler: string, authorization?: string) {
  const req: { headers: Record<string, string>; user?: AuthUser } = {
    headers: authorization ? { authorization } : {},
  };
  const ctx = {
    getType: () => 'http',
    getClass: () => controller,
    getHandler: () => (controller as { prototype: Record<string, unknown> }).prototype[handler],
    switchToHttp: () => ({ getRequest: () => req }),
  } as unknown as ExecutionContext;
  return { ctx, req };
}

/** The AppError code the guard throws, or 'allowed'. */
function outcome(controller: object, handler: string, authorization?: string): string {
  try {
    return new AuthGuard(new Reflector(), tokens).canActivate(context(controller, handler, authorization).ctx)
      ? 'allowed'
      : 'refused';
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
}

describe('AuthGuard (deny by default)', () => {
  it('lets anyone reach a @Public route, unless its handler declares roles of its own', () => {
    expect(outcome(OpenController, 'get')).toBe('allowed');
    expect(outcome(OpenController, 'staff')).toBe('UNAUTHENTICATED');
    expect(outcome(OpenController, 'staff', bearer('auditor'))).toBe('FORBIDDEN');
    expect(outcome(OpenController, 'staff', bearer('operator'))).toBe('allowed');
  });

  it('refuses a route without a policy even to an admin', () => {
    expect(outcome(ForgottenController, 'get', bearer('admin'))).toBe('FORBIDDEN');
  });

  it('asks for a token (401) and checks the role (403), the handler overriding its controller', () => {
    expect(outcome(ThingsController, 'list')).toBe('UNAUTHENTICATED');
    expect(outcome(ThingsController, 'list', 'Bearer junk')).toBe('UNAUTHENTICATED');
    expect(outcome(ThingsController, 'list', 'Basic dTpw')).toBe('UNAUTHENTICATED');
    expect(outcome(ThingsController, 'list', bearer('operator'))).toBe('allowed');
    expect(outcome(ThingsController, 'list', bearer('traffic_analyst'))).toBe('FORBIDDEN');
    expect(outcome(ThingsController, 'secret', bearer('operator'))).toBe('FORBIDDEN');
    expect(outcome(ThingsController, 'secret', bearer('admin'))).toBe('allowed');
  });

  it('puts the token user on the request', () => {
    const { ctx, req } = context(ThingsController, 'list', bearer('operator'));
    new AuthGuard(new Reflector(), tokens).canActivate(ctx);
    expect(req.user).toEqual({ id, username: 'u', role: 'operator', siteIds: ['s1'], allSites: false });
  });
});

describe('route policy check', () => {
  async function moduleWith(...controllers: (new () => object)[]) {
    const mod = await Test.createTestingModule({ controllers, providers: [DiscoveryService, MetadataScanner] })
      .useMocker(() => ({}))
      .compile();
    const d = mod.get(DiscoveryService);
    return { check: new RoutePolicyCheck(d, new MetadataScanner(), new Reflector()), d };
  }

  it('lists each route with its policy', async () => {
    const { d } = await moduleWith(OpenController, ThingsController, ForgottenController);
    const routes = listRoutes(d, new MetadataScanner(), new Reflector());
    expect(routes.map((r) => [r.method, r.path, r.policy])).toEqual(
      expect.arrayContaining([
        ['GET', '/open', { public: true }],
        ['GET', '/open/staff', { roles: ['operator'] }],
        ['GET', '/things', { roles: ['admin', 'operator'] }],
        ['GET', '/things/secret', { roles: ['admin'] }],
        ['GET', '/forgotten', null],
      ]),
    );
  });

  it('stops start-up when a route has no policy, naming it', async () => {
    const bad = await moduleWith(OpenController, ForgottenController);
    expect(() => bad.check.onModuleInit()).toThrow(/GET \/forgotten \(ForgottenController\.get\)/);
    const good = await moduleWith(OpenController, ThingsController);
    expect(() => good.check.onModuleInit()).not.toThrow();
  });
});
