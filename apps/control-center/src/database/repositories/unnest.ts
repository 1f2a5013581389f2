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

export class ColumnBatch {
  readonly values: Cell[][];
  private count = 0;

  constructor(readonly columns: readonly UnnestColumn[]) {
    this.values = columns.map(() => []);
  }

  get size(): number {
    return this.count;
  }

  /** Adds one row; cells in column order. */
  push(...cells: Cell[]): void {
    if (cells.length !== this.columns.length) {
      throw new Error(`row has ${cells.length} cells for ${this.columns.length} columns`);
    }
    for (let i = 0; i < cells.length; i++) this.values[i].push(cells[i]);
    this.count++;
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

/** PostgreSQL array literal of numbers, e.g. a box: `{0.1,0.2,0.3,0.4}`. */
export function numberArrayLiteral(values: readonly number[] | null): string | null {
  if (values === null) return null;
  return `{${values.map((v) => String(v)).join(',')}}`;
}

/** PostgreSQL array literal of strings, quoted and escaped. */
export function textArrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, (ch) => `\\${ch}`)}"`).join(',')}}`;
}
