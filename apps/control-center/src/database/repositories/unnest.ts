/**
 * Multi-row statements over `unnest($1::type[], $2::type[], ...)`: one bind parameter per column whatever the
 * batch size (the protocol caps a statement at 65,535 parameters), and ON CONFLICT / RETURNING still work.
 */

export type Cell = string | number | boolean | null | Buffer;

export interface UnnestColumn {
  name: string;
  /** Element type of the bound array (`text`, `uuid`, `timestamptz`, ...). */
  type: string;
  /**
   * Array-valued columns cannot ride in a 2-D array (unnest would flatten it): they travel as array literals in a
   * `text[]` and are cast back here, e.g. `real[]`.
   */
  castTo?: string;
}

const NUMERIC = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'numeric']);

/**
 * Rows bound column-wise: each column travels as one PostgreSQL array literal, built as the rows are pushed. Built
 * here rather than by `pg` (which escapes every element through a generic recursive path): the element type is
 * known, so numbers go bare and only strings that hold a quote or backslash pay for escaping (a batch is 2,000 rows
 * x 26 columns).
 */
export class ColumnBatch {
  private readonly literals: string[];
  private readonly numeric: boolean[];
  private count = 0;

  constructor(readonly columns: readonly UnnestColumn[]) {
    this.literals = columns.map(() => '');
    this.numeric = columns.map((c) => !c.castTo && NUMERIC.has(c.type));
  }

  get size(): number {
    return this.count;
  }

  /** Adds one row; cells in column order. */
  push(...cells: Cell[]): void {
    if (cells.length !== this.columns.length) {
      throw new Error(`row has ${cells.length} cells for ${this.columns.length} columns`);
    }
    const sep = this.count === 0 ? '' : ',';
    for (let i = 0; i < cells.length; i++) this.literals[i] += sep + arrayElement(this.numeric[i], cells[i]);
    this.count++;
  }

  /** One bind parameter per column: the column's cells as an array literal (see `select`). */
  get params(): string[] {
    return this.literals.map((l) => `{${l}}`);
  }

  get names(): string {
    return this.columns.map((c) => c.name).join(', ');
  }

  /** `SELECT <cols> FROM unnest($n::t[], ...) AS alias(<cols>)`, parameters numbered from `first`. */
  select(alias: string, first = 1): string {
    const exprs = this.columns.map((c) => (c.castTo ? `${alias}.${c.name}::${c.castTo}` : `${alias}.${c.name}`));
    const params = this.columns.map((c, i) => `$${first + i}::${c.castTo ? 'text' : c.type}[]`);
    return `SELECT ${exprs.join(', ')} FROM unnest(${params.join(', ')}) AS ${alias}(${this.names})`;
  }
}

const NEEDS_ESCAPE = /["\\]/;
const ESCAPED = /["\\]/g;

/**
 * One element of an array literal: `NULL` for null, numbers bare in a numeric array, booleans `t`/`f`, buffers as
 * bytea hex, everything else double-quoted (so `NULL`, empty strings, braces, commas and spaces stay literal text)
 * with `"` and `\` escaped.
 */
function arrayElement(numeric: boolean, v: Cell): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`non-finite number ${v} in an array column`);
    return numeric ? String(v) : `"${v}"`;
  }
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (Buffer.isBuffer(v)) return `"\\\\x${v.toString('hex')}"`;
  return NEEDS_ESCAPE.test(v) ? `"${v.replace(ESCAPED, (ch) => `\\${ch}`)}"` : `"${v}"`;
}

/** One-dimensional PostgreSQL array literal of `cells` whose element type is `type`. */
export function arrayLiteral(type: string, cells: readonly Cell[]): string {
  const numeric = NUMERIC.has(type);
  return `{${cells.map((v) => arrayElement(numeric, v)).join(',')}}`;
}

/** PostgreSQL array literal of numbers, e.g. a box: `{0.1,0.2,0.3,0.4}`. */
export function numberArrayLiteral(values: readonly number[] | null): string | null {
  return values === null ? null : arrayLiteral('float8', values);
}

/** PostgreSQL array literal of strings, quoted and escaped. */
export function textArrayLiteral(values: readonly string[]): string {
  return arrayLiteral('text', values);
}
