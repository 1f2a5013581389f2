import { Client } from 'pg';
import { POSTGRES_URL } from '../../../../../test/support/services';
import { ColumnBatch, arrayLiteral, type Cell } from './unnest';

/** The array literals ColumnBatch builds, read back by the real PostgreSQL 15 server: every cell as it went in. */
describe('ColumnBatch literals on PostgreSQL', () => {
  let pg: Client;

  beforeAll(async () => {
    pg = new Client({ connectionString: POSTGRES_URL });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
  });

  const awkward = [
    'plain',
    '',
    'NULL',
    'null',
    ' leading and trailing ',
    'comma, {braces} and "quotes"',
    'back\\slash \\" and \\\\',
    'tab\there\nnewline',
    'ünïcødé 🚦',
    "it's",
  ];

  it('round-trips awkward text, nulls and every column type', async () => {
    const batch = new ColumnBatch([
      { name: 't', type: 'text' },
      { name: 'i', type: 'int4' },
      { name: 'b', type: 'int8' },
      { name: 'f', type: 'float8' },
      { name: 'u', type: 'uuid' },
      { name: 'at', type: 'timestamptz' },
      { name: 'ok', type: 'bool' },
      { name: 'raw', type: 'bytea' },
      { name: 'doc', type: 'jsonb' },
      { name: 'box', type: 'text', castTo: 'real[]' },
      { name: 'tags', type: 'text', castTo: 'text[]' },
    ]);
    const rows: Cell[][] = awkward.map((t, i) => [
      t,
      i === 3 ? null : 1 - i,
      2 ** 53 - 1 - i,
      i / 7,
      `00000000-0000-4000-8000-00000000000${i}`,
      `2026-11-22T01:02:03.${String(i).padStart(3, '0')}Z`,
      i % 2 === 0,
      Buffer.from([0, 92, 34, i]),
      JSON.stringify({ text: t }),
      `{0.1,${i / 10},0.5,1}`,
      arrayLiteral('text', [t, 'x']),
    ]);
    for (const r of rows) batch.push(...r);
    const { rows: back } = await pg.query(
      `${batch.select('u')}`.replace('SELECT ', 'SELECT u.b::text AS b_text, u.f::text AS f_text, '),
      batch.params,
    );
    expect(back).toHaveLength(awkward.length);
    back.forEach((row, i) => {
      expect(row.t).toBe(awkward[i]);
      expect(row.i).toBe(i === 3 ? null : 1 - i);
      expect(row.b_text).toBe(String(2 ** 53 - 1 - i));
      expect(Number(row.f_text)).toBe(i / 7);
      expect(row.u).toBe(`00000000-0000-4000-8000-00000000000${i}`);
      expect((row.at as Date).toISOString()).toBe(`2026-11-22T01:02:03.${String(i).padStart(3, '0')}Z`);
      expect(row.ok).toBe(i % 2 === 0);
      expect(row.raw).toEqual(Buffer.from([0, 92, 34, i]));
      expect(row.doc).toEqual({ text: awkward[i] });
      (row.box as number[]).forEach((v, k) => expect(v).toBeCloseTo([0.1, i / 10, 0.5, 1][k], 6));
      expect(row.box).toHaveLength(4);
      expect(row.tags).toEqual([awkward[i], 'x']);
    });
  });

  it('sends an empty batch as empty arrays', async () => {
    const batch = new ColumnBatch([{ name: 't', type: 'text' }]);
    const { rows } = await pg.query(batch.select('u'), batch.params);
    expect(rows).toEqual([]);
  });
});
