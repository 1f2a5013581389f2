import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { ApiErrorBodySchema, type Role } from '@vigil/contracts';
import { z } from 'zod';
import type { RouteInfo } from '../auth/route-policy.check';
import { RESPONSES_KEY, type DocumentedResponse } from '../common/api-doc.decorators';
import { ZodValidationPipe } from '../common/zod-validation.pipe';

type JsonSchema = Record<string, unknown>;

interface ArgMeta {
  index: number;
  data?: unknown;
  pipes?: unknown[];
}

/** The validated inputs of a handler, read from the parameter decorators (`@ValidBody`, `@ValidQuery`, `@ValidParam`). */
function inputsOf(route: RouteInfo) {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, route.controllerType, route.handler) ?? {}) as Record<
    string,
    ArgMeta
  >;
  const out: { type: RouteParamtypes; name?: string; schema: z.ZodType }[] = [];
  for (const [key, meta] of Object.entries(args)) {
    const type = Number(key.split(':')[0]) as RouteParamtypes;
    const pipe = meta.pipes?.find((p): p is ZodValidationPipe<z.ZodType> => p instanceof ZodValidationPipe);
    if (pipe) out.push({ type, name: typeof meta.data === 'string' ? meta.data : undefined, schema: pipe.schema });
  }
  return out;
}

/** JSON Schema (2020-12, as OpenAPI 3.1 uses) of what a client sends or receives. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const s = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  delete s.$schema;
  return s;
}

const ERROR_CONTENT = { 'application/json': { schema: jsonSchema(ApiErrorBodySchema, 'output') } };

function errorResponse(description: string) {
  return { description, content: ERROR_CONTENT };
}

/**
 * The OpenAPI 3.1 document of every route the application has, built from the same metadata the guard and the
 * pipes use (route list and policy, zod schemas of the validated inputs, `@Responds`), so it cannot drift from
 * what the centre enforces. Roles are listed per operation as `x-roles`.
 */
export function buildOpenApi(routes: readonly RouteInfo[], info: { title: string; version: string }): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of [...routes].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method))) {
    const inputs = inputsOf(route);
    const parameters: unknown[] = [];
    let requestBody: unknown;
    for (const input of inputs) {
      if (input.type === RouteParamtypes.PARAM && input.name) {
        parameters.push({ name: input.name, in: 'path', required: true, schema: jsonSchema(input.schema, 'input') });
      } else if (input.type === RouteParamtypes.QUERY) {
        const s = jsonSchema(input.schema, 'input');
        const props = (s.properties ?? {}) as Record<string, JsonSchema>;
        const required = new Set((s.required ?? []) as string[]);
        for (const [name, schema] of Object.entries(props)) {
          parameters.push({ name, in: 'query', required: required.has(name), schema, explode: true });
        }
      } else if (input.type === RouteParamtypes.BODY) {
        requestBody = {
          required: true,
          content: { 'application/json': { schema: jsonSchema(input.schema, 'input') } },
        };
      }
    }
    // Path params named in the route but not validated by a pipe are still documented.
    for (const m of route.path.matchAll(/:([A-Za-z0-9_]+)/g)) {
      if (!parameters.some((p) => (p as { name: string; in: string }).name === m[1])) {
        parameters.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
      }
    }
    const documented = (Reflect.getMetadata(RESPONSES_KEY, route.handlerFn) ?? []) as DocumentedResponse[];
    const responses: Record<string, unknown> = {};
    for (const r of documented.length > 0 ? documented : [{ status: 200, description: 'OK' }]) {
      const content =
        r.body === undefined
          ? undefined
          : 'mediaType' in r.body
            ? { [r.body.mediaType]: {} }
            : { 'application/json': { schema: jsonSchema(r.body, 'output') } };
      responses[String(r.status)] = content ? { description: r.description, content } : { description: r.description };
    }
    if (inputs.length > 0) responses['400'] = errorResponse('VALIDATION_FAILED / BAD_REQUEST: names each field');
    const roles: readonly Role[] | null = route.policy && 'roles' in route.policy ? route.policy.roles : null;
    if (roles) {
      responses['401'] = errorResponse('UNAUTHENTICATED: no, a forged or an expired access token');
      responses['403'] = errorResponse(`FORBIDDEN: roles other than ${roles.join(', ')}`);
    }
    if (/:/.test(route.path)) responses['404'] = errorResponse("NOT_FOUND (also for another site's data)");
    const openPath = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    paths[openPath] ??= {};
    paths[openPath][route.method.toLowerCase()] = {
      operationId: `${route.controller}.${route.handler}`,
      tags: [route.controller.replace(/Controller$/, '')],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses,
      security: roles ? [{ bearer: [] }] : [],
      'x-roles': roles ?? 'public',
    };
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
  };
}
