import { RequestMethod, type OnModuleInit } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import type { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { policyOf } from './auth.guard';

export interface RouteInfo {
  controller: string;
  handler: string;
  method: string;
  path: string;
  policy: ReturnType<typeof policyOf>;
  /** The controller class and handler function (their metadata describes the route, e.g. for the OpenAPI document). */
  controllerType: new (...a: never[]) => object;
  handlerFn: object;
}

/** Every HTTP route of the application's controllers, with the policy each declares. */
export function listRoutes(discovery: DiscoveryService, scanner: MetadataScanner, reflector: Reflector): RouteInfo[] {
  const routes: RouteInfo[] = [];
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as (new (...a: never[]) => object) | null;
    if (!controller) continue;
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    const proto = controller.prototype as Record<string, unknown>;
    for (const name of scanner.getAllMethodNames(proto)) {
      const handler = proto[name] as object;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
      if (path === undefined) continue; // not a route handler
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
      routes.push({
        controller: controller.name,
        handler: name,
        method: RequestMethod[method],
        path: `/${[base, ...[path].flat()].join('/')}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1'),
        policy: policyOf(reflector, handler, controller),
        controllerType: controller,
        handlerFn: handler,
      });
    }
  }
  return routes;
}

/** Start-up check: a route without an access policy stops the centre (the guard would refuse it anyway). */
export class RoutePolicyCheck implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    const missing = listRoutes(this.discovery, this.scanner, this.reflector).filter((r) => r.policy === null);
    if (missing.length > 0) {
      const names = missing.map((r) => `${r.method} ${r.path} (${r.controller}.${r.handler})`);
      throw new Error(`routes without an access policy (@Public or @Allow): ${names.join(', ')}`);
    }
  }
}
