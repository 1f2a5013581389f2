import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import request from 'supertest';
import { listRoutes } from '../auth/route-policy.check';
import { RESPONSES_KEY } from '../common/api-doc.decorators';
import { CentreHarness } from '../testing/centre-harness';

jest.setTimeout(60_000);

type Operation = {
  parameters?: { name: string; in: string; required: boolean }[];
  requestBody?: {
    content: {
      'application/json': { schema: { properties: Record<string, unknown>; additionalProperties?: unknown } };
    };
  };
  responses: Record<string, unknown>;
  'x-roles': string[] | 'public';
};

describe('/docs (real AppModule)', () => {
  let c: CentreHarness;
  let doc: { openapi: string; paths: Record<string, Record<string, Operation>> };

  beforeAll(async () => {
    c = await CentreHarness.start('docs');
    const res = await request(c.http).get('/docs/openapi.json').expect(200);
    doc = res.body as typeof doc;
  });

  afterAll(async () => {
    await c?.close();
  });

  it('lists every route the application has, with the roles its guard enforces', () => {
    const routes = listRoutes(c.app.get(DiscoveryService), c.app.get(MetadataScanner), c.app.get(Reflector));
    expect(routes.length).toBeGreaterThan(15);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const expected = routes.map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    expect([...documented].sort()).toEqual([...new Set(expected)].sort());
    for (const r of routes) {
      const op = doc.paths[r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')][r.method.toLowerCase()];
      expect([r.method, r.path, op['x-roles']]).toEqual([
        r.method,
        r.path,
        r.policy && 'roles' in r.policy ? r.policy.roles : 'public',
      ]);
    }
    expect(doc.openapi).toBe('3.1.0');
    // Every operation documents its success (from @Responds) beside the errors derived from policy and inputs.
    const undocumented = routes.filter((r) => (Reflect.getMetadata(RESPONSES_KEY, r.handlerFn) ?? []).length === 0);
    expect(undocumented.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it('describes params, bodies and responses from the contracts', () => {
    const alerts = doc.paths['/api/alerts'].get;
    expect(alerts['x-roles']).toEqual(['admin', 'operator', 'auditor']);
    expect(alerts.parameters!.map((p) => p.name)).toEqual(
      expect.arrayContaining([
        'siteId',
        'cameraId',
        'kind',
        'state',
        'severity',
        'from',
        'to',
        'after',
        'limit',
        'order',
      ]),
    );
    const transition = doc.paths['/api/alerts/{id}/transitions'].post;
    expect(transition['x-roles']).toEqual(['admin', 'operator']);
    expect(transition.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    const body = transition.requestBody!.content['application/json'].schema;
    expect(Object.keys(body.properties).sort()).toEqual(['action', 'expectedVersion', 'note']);
    expect(body.additionalProperties).toBe(false);
    expect(Object.keys(transition.responses).sort()).toEqual(['200', '400', '401', '403', '404', '409']);
    expect(doc.paths['/api/evidence/{evidenceId}'].get['x-roles']).toEqual(['admin', 'operator', 'auditor']);
    expect(doc.paths['/api/auth/login'].post['x-roles']).toBe('public');
  });

  it('serves Swagger UI from the installed package, nothing from a CDN, and only its own files', async () => {
    const page = await request(c.http).get('/docs').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).not.toMatch(/https?:\/\//);
    for (const src of [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])) {
      await request(c.http).get(src).expect(200);
    }
    const bundle = await request(c.http).get('/docs/ui/swagger-ui-bundle.js').expect(200);
    expect(bundle.text.length).toBeGreaterThan(100_000);
    await request(c.http).get('/docs/ui/package.json').expect(404);
    await request(c.http).get('/docs/ui/..%2Fpackage.json').expect(404);
  });
});
