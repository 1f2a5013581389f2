import { VIOLATION_EXPORT_COLUMNS, type ViolationExportQuery, type ViolationExportRow } from '@vigil/contracts';
import type { AuthUser } from '../auth/auth.decorators';
import { AppError } from '../common/app-error';
import { mayRead } from './alert-workflow';
import type { ViolationExportRepository } from './violation-export.repository';

const PAGE = 500;

/**
 * The export of confirmed parking violations (the only alerts that may leave the centre as a case file), scoped to
 * the caller's sites. Read page by page so an export of any size holds one page in memory.
 */
export class ViolationExportService {
  constructor(private readonly repo: ViolationExportRepository) {}

  async *rows(user: AuthUser, query: Omit<ViolationExportQuery, 'format'>): AsyncGenerator<ViolationExportRow> {
    if (!mayRead(user.role)) throw new AppError('FORBIDDEN', `a ${user.role} may not export violations`);
    let siteIds: readonly string[] | null = query.siteId === undefined ? null : [query.siteId];
    if (!user.allSites) siteIds = (siteIds ?? user.siteIds).filter((s) => user.siteIds.includes(s));
    if (siteIds !== null && siteIds.length === 0) return;
    let after = '0';
    for (;;) {
      const page = await this.repo.page({
        siteIds,
        from: query.from === undefined ? undefined : new Date(query.from),
        to: query.to === undefined ? undefined : new Date(query.to),
        after,
        limit: PAGE,
      });
      yield* page;
      if (page.length < PAGE) return;
      after = page[page.length - 1].alertId;
    }
  }
}

/** The CSV header line (the documented columns, in order). */
export function csvHeader(): string {
  return `${VIOLATION_EXPORT_COLUMNS.join(',')}\r\n`;
}

/** One CSV line (RFC 4180), each cell quoted when needed and defused against formula injection. */
export function csvLine(row: ViolationExportRow): string {
  return `${VIOLATION_EXPORT_COLUMNS.map((c) => csvCell(row[c])).join(',')}\r\n`;
}

/**
 * A cell: a text starting with `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet shows it rather than
 * evaluates it (OWASP CSV injection); quotes doubled, and the cell quoted when it holds a comma, quote or newline.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
