import { PageQuerySchema } from '@vigil/contracts';
import { AppError } from './app-error';
import { ZodValidationPipe } from './zod-validation.pipe';

describe('ZodValidationPipe', () => {
  const pipe = new ZodValidationPipe(PageQuerySchema);
  const query = { type: 'query' as const };

  it('hands on the parsed value: coerced and defaulted', () => {
    expect(pipe.transform({ limit: '20', after: '41' }, query)).toEqual({ limit: 20, after: '41' });
    expect(pipe.transform({}, query)).toEqual({ limit: 50 });
  });

  it('refuses with VALIDATION_FAILED naming every offending field path', () => {
    let caught: unknown;
    try {
      pipe.transform({ limit: '0', after: 'abc', colour: 'red' }, query);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    const e = caught as AppError;
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.details?.map((d) => [d.in, d.path])).toEqual([
      ['query', 'limit'],
      ['query', 'after'],
      ['query', ''],
    ]);
    expect(e.details?.[2].message).toContain('colour');
    expect(e.message).toMatch(/^invalid query: limit: .*; after: must be an id/);
  });

  it('names the path parameter at fault', () => {
    const param = new ZodValidationPipe(PageQuerySchema.shape.after.unwrap());
    expect(() => param.transform('x', { type: 'param', data: 'id' })).toThrow(/^invalid param "id": must be an id/);
  });
});
