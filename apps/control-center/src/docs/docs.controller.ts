import { Controller, Get, Header, Inject, Param, Res } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Public } from '../auth/auth.decorators';
import { listRoutes } from '../auth/route-policy.check';
import { Responds } from '../common/api-doc.decorators';
import { AppError } from '../common/app-error';
import { buildOpenApi } from './openapi.builder';

/** The Swagger UI files served (from the installed package, never a CDN: the centre may run air-gapped). */
const UI_FILES: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

/** The installed swagger-ui-dist package's folder (the package ships no types; its folder is all we need). */
const UI_DIR = dirname(require.resolve('swagger-ui-dist/package.json'));

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Vigil API</title>
<link rel="stylesheet" href="/docs/ui/swagger-ui.css"><link rel="icon" href="/docs/ui/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/ui/swagger-ui-bundle.js"></script>
<script src="/docs/ui/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init.js"></script>
</body></html>
`;

// A file rather than an inline script, so a strict Content-Security-Policy (script-src 'self') allows it.
const INIT = `window.ui = SwaggerUIBundle({ url: '/docs/openapi.json', dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });
`;

/** The API's OpenAPI 3.1 document and Swagger UI over it (public: they describe routes, not data). */
@Controller('docs')
@Public()
export class DocsController {
  private document: Record<string, unknown> | null = null;

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Responds({ status: 200, description: 'Swagger UI', body: { mediaType: 'text/html' } })
  page(): string {
    return PAGE;
  }

  @Get('init.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Responds({ status: 200, description: "Swagger UI's start-up script", body: { mediaType: 'text/javascript' } })
  init(): string {
    return INIT;
  }

  /** Built once, on first request, when every controller is registered. */
  @Get('openapi.json')
  @Responds({ status: 200, description: 'The OpenAPI 3.1 document', body: { mediaType: 'application/json' } })
  openapi(): Record<string, unknown> {
    this.document ??= buildOpenApi(listRoutes(this.discovery, this.scanner, this.reflector), {
      title: 'Vigil control centre API',
      version: '0.1.0',
    });
    return this.document;
  }

  @Get('ui/:file')
  @Responds({ status: 200, description: 'A Swagger UI asset', body: { mediaType: 'application/octet-stream' } })
  asset(@Param('file') file: string, @Res() res: Response): void {
    // Only the listed files: the name never reaches the file system otherwise.
    const type = Object.hasOwn(UI_FILES, file) ? UI_FILES[file] : undefined;
    if (!type) throw new AppError('NOT_FOUND', `no docs asset ${file}`);
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type(type).send(readFileSync(join(UI_DIR, file)));
  }
}
