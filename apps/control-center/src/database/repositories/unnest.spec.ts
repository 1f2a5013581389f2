import { ColumnBatch, arrayLiteral, numberArrayLiteral, textArrayLiteral } from './unnest';

describe('array literals for unnest', () => {
  it('writes numbers bare in numeric arrays and quotes everything else', () => {
    expect(arrayLiteral('int4', [1, null, -2])).toBe('{1,NULL,-2}');
    expect(arrayLiteral('text', ['a', null, 'NULL', ''])).toBe('{"a",NULL,"NULL",""}');
    expect(arrayLiteral('text', [7])).toBe('{"7"}');
    expect(arrayLiteral('bool', [true, false])).toBe('{t,f}');
  });

  it('escapes quotes and backslashes, and only those', () => {
    expect(textArrayLiteral(['say "hi"', 'a\\b', 'x,{y}'])).toBe('{"say \\"hi\\"","a\\\\b","x,{y}"}');
  });

  it('writes buffers as bytea hex', () => {
    expect(arrayLiteral('bytea', [Buffer.from([0xde, 0xad])])).toBe('{"\\\\xdead"}');
  });

  it('refuses numbers PostgreSQL would not read back', () => {
    expect(() => arrayLiteral('float8', [NaN])).toThrow(/non-finite/);
    expect(() => numberArrayLiteral([Infinity])).toThrow(/non-finite/);
  });

  it('keeps a null number array null', () => {
    expect(numberArrayLiteral(null)).toBeNull();
    expect(numberArrayLiteral([0.1, 0.2])).toBe('{0.1,0.2}');
  });

  it('binds one literal per column, rows in push order', () => {
    const batch = new ColumnBatch([
      { name: 'id', type: 'int8' },
      { name: 'name', type: 'text' },
      { name: 'box', type: 'text', castTo: 'real[]' },
    ]);
    batch.push(1, 'a', '{0,0,1,1}');
    batch.push(2, null, null);
    expect(batch.size).toBe(2);
    expect(batch.params).toEqual(['{1,2}', '{"a",NULL}', '{"{0,0,1,1}",NULL}']);
    expect(batch.select('u', 3)).toBe(
      'SELECT u.id, u.name, u.box::real[] FROM unnest($3::int8[], $4::text[], $5::text[]) AS u(id, name, box)',
    );
    expect(() => batch.push(3, 'too few')).toThrow(/2 cells for 3 columns/);
  });
});
