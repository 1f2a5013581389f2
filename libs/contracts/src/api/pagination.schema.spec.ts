import { CursorSchema, PageQuerySchema } from './pagination.schema';

describe('CursorSchema', () => {
  it('takes decimal ids up to the largest bigint and refuses anything the database could not compare', () => {
    expect(CursorSchema.safeParse('0').success).toBe(true);
    expect(CursorSchema.safeParse('9223372036854775807').success).toBe(true);
    for (const bad of ['9223372036854775808', '9999999999999999999', '01', '-1', '1e3', '']) {
      expect(CursorSchema.safeParse(bad).success).toBe(false);
    }
    expect(PageQuerySchema.safeParse({ after: '9999999999999999999' }).success).toBe(false);
  });
});
