import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { DocsController } from './docs.controller';

/** `/docs`: the OpenAPI document built from the routes' own metadata, and Swagger UI. */
@Module({ imports: [DiscoveryModule], controllers: [DocsController] })
export class DocsModule {}
