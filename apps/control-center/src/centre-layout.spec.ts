import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The centre's layout rules, checked on its source so they hold as features are added: no import cycle, the
// database layer depends on no feature, SQL only in repositories. Production code only (tests and `testing/`
// helpers may reach across).
const ROOT = __dirname;

function productionFiles(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'testing' ? [] : productionFiles(path);
    return e.name.endsWith('.ts') && !/\.(spec|int-spec)\.ts$/.test(e.name) ? [path] : [];
  });
}

const files = productionFiles();
const source = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
const rel = (f: string) => relative(ROOT, f);

/** Relative imports of a file (type-only ones too: they tie files together just the same), resolved to files. */
function importsOf(file: string): string[] {
  const out: string[] = [];
  for (const m of source.get(file)!.matchAll(/(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'/g)) {
    const base = resolve(dirname(file), m[1]);
    const target = [`${base}.ts`, join(base, 'index.ts')].find((c) => source.has(c));
    if (target) out.push(target);
  }
  return out;
}

const graph = new Map(files.map((f) => [f, importsOf(f)]));

function findCycle(): string[] | null {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): string[] | null => {
    if (state.get(f) === 'done') return null;
    if (state.get(f) === 'visiting') return [...stack.slice(stack.indexOf(f)), f];
    state.set(f, 'visiting');
    stack.push(f);
    for (const next of graph.get(f)!) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(f, 'done');
    return null;
  };
  for (const f of files) {
    const cycle = visit(f);
    if (cycle) return cycle;
  }
  return null;
}

describe('control centre layout', () => {
  it('finds the files it checks', () => {
    expect(files.map(rel)).toEqual(expect.arrayContaining(['app.module.ts', 'database/database.module.ts']));
    expect(graph.get(join(ROOT, 'app.module.ts'))!.length).toBeGreaterThan(5);
  });

  it('has no import cycle', () => {
    expect(findCycle()?.map(rel) ?? null).toBeNull();
  });

  it('keeps database/ free of feature imports (features depend on the database, not the other way round)', () => {
    const allowed = ['database/', 'common/', 'config/'];
    const offending = files
      .filter((f) => rel(f).startsWith('database/'))
      .flatMap((f) => graph.get(f)!.map((t) => `${rel(f)} -> ${rel(t)}`))
      .filter((edge) => !allowed.some((a) => edge.split(' -> ')[1].startsWith(a)));
    expect(offending).toEqual([]);
  });

  it('runs SQL only in *.repository.ts (services may only open and close transactions)', () => {
    const transactionControl = /^(BEGIN|COMMIT|ROLLBACK)$/;
    const offending: string[] = [];
    for (const f of files) {
      if (f.endsWith('.repository.ts') || rel(f).startsWith('database/embedded/')) continue;
      for (const m of source.get(f)!.matchAll(/\.query(?:<[^>]*>)?\(\s*(?:'([^']*)'|"([^"]*)"|(\S))/g)) {
        const literal = m[1] ?? m[2];
        if (literal === undefined || !transactionControl.test(literal)) {
          offending.push(`${rel(f)}: ${m[0]}`);
        }
      }
    }
    expect(offending).toEqual([]);
  });
});
