import { Controller, Get, HttpCode, NotFoundException, Post, type INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { API_ERROR_CODES, ApiErrorBodySchema, PageQuerySchema, type PageQuery } from '@vigil/contracts';
import pino from 'pino';
import request from 'supertest';
import type { Server } from 'node:http';
import { z } from 'zod';
import { AppError, AppErrorCode, HTTP_STATUS, codeOfHttpStatus } from './app-error';
import { GlobalExceptionFilter } from './global-exception.filter';
import { ValidBody, ValidQuery } from './zod-validation.pipe';

const NoteSchema = z.strictObject({ text: z.string().min(1).max(10), tags: z.array(z.string().max(3)).default([]) });

@Controller('t')
class ProbeController {
  @Get('page')
  page(@ValidQuery(PageQuerySchema) q: PageQuery): PageQuery {
    return q;
  }

  @Post('notes')
  @HttpCode(201)
  note(@ValidBody(NoteSchema) body: z.output<typeof NoteSchema>): z.output<typeof NoteSchema> {
    return body;
  }

  @Get('conflict')
  conflict(): never {
    throw new AppError(AppErrorCode.CONFLICT, 'alert changed meanwhile (version 3)');
  }

  @Get('nest-404')
  nest404(): never {
    throw new NotFoundException('no such alert');
  }

  @Get('bug')
  bug(): never {
    throw new Error('secret connection string postgres://u:p@h/db');
  }
}

describe('errors as typed codes', () => {
  it('maps every contract code to one HTTP status, 4xx or 5xx', () => {
    expect(Object.keys(HTTP_STATUS).sort()).toEqual([...API_ERROR_CODES].sort());
    for (const code of API_ERROR_CODES) expect(HTTP_STATUS[code]).toBeGreaterThanOrEqual(400);
    expect(HTTP_STATUS.VALIDATION_FAILED).toBe(400);
    expect(HTTP_STATUS.CONFLICT).toBe(409);
    expect(HTTP_STATUS.INTERNAL).toBe(500);
  });

  it('maps a bare HTTP status back to its code', () => {
    expect([401, 403, 404, 409, 413, 429, 503, 400, 422, 502].map(codeOfHttpStatus)).toEqual([
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'PAYLOAD_TOO_LARGE',
      'RATE_LIMITED',
      'NOT_READY',
      'BAD_REQUEST',
      'BAD_REQUEST',
      'INTERNAL',
    ]);
  });

  describe('over HTTP', () => {
    let app: INestApplication;
    const logged: unknown[] = [];

    beforeAll(async () => {
      const logger = pino({ level: 'silent' });
      logger.error = (obj: unknown) => void logged.push(obj);
      const module = await Test.createTestingModule({
        controllers: [ProbeController],
        providers: [{ provide: APP_FILTER, useValue: new GlobalExceptionFilter(logger) }],
      }).compile();
      app = module.createNestApplication({ logger: false });
      await app.init();
    });

    afterAll(async () => {
      await app?.close();
    });

    const server = () => app.getHttpServer() as Server;
    const expectBody = (body: unknown) => ApiErrorBodySchema.parse(body);

    it('passes a valid query through, parsed', async () => {
      const res = await request(server()).get('/t/page?limit=5&after=9').expect(200);
      expect(res.body).toEqual({ limit: 5, after: '9' });
    });

    it('answers a bad query with 400 VALIDATION_FAILED and the field paths', async () => {
      const res = await request(server()).get('/t/page?limit=9999&sort=x').expect(400);
      const body = expectBody(res.body);
      expect(body.error).toBe('VALIDATION_FAILED');
      expect(body.details?.map((d) => [d.in, d.path])).toEqual([
        ['query', 'limit'],
        ['query', ''],
      ]);
    });

    it('answers a bad body with nested field paths, and unknown fields by name', async () => {
      const res = await request(server())
        .post('/t/notes')
        .send({ text: '', tags: ['ok', 'toolong'], extra: 1 })
        .expect(400);
      const body = expectBody(res.body);
      expect(body.error).toBe('VALIDATION_FAILED');
      expect(body.details?.map((d) => d.path)).toEqual(['text', 'tags.1', '']);
      expect(body.details?.[2].message).toContain('extra');
      await request(server()).post('/t/notes').send({ text: 'fine' }).expect(201, { text: 'fine', tags: [] });
    });

    it('answers malformed JSON with 400 BAD_REQUEST', async () => {
      const res = await request(server())
        .post('/t/notes')
        .set('content-type', 'application/json')
        .send('{"text": ')
        .expect(400);
      expect(expectBody(res.body).error).toBe('BAD_REQUEST');
    });

    it('maps AppError codes and Nest exceptions through the one table', async () => {
      const conflict = await request(server()).get('/t/conflict').expect(409);
      expect(expectBody(conflict.body)).toEqual({ error: 'CONFLICT', message: 'alert changed meanwhile (version 3)' });
      const nest = await request(server()).get('/t/nest-404').expect(404);
      expect(expectBody(nest.body)).toEqual({ error: 'NOT_FOUND', message: 'no such alert' });
      const route = await request(server()).get('/nowhere').expect(404);
      expect(expectBody(route.body).error).toBe('NOT_FOUND');
    });

    it('answers an unexpected error with a bare 500 and logs it', async () => {
      logged.length = 0;
      const res = await request(server()).get('/t/bug').expect(500);
      expect(res.body).toEqual({ error: 'INTERNAL', message: 'Internal server error' });
      expect(JSON.stringify(res.body)).not.toContain('postgres');
      expect(logged).toHaveLength(1);
    });
  });
});
