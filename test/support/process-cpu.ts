import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second for /proc times (USER_HZ: 100 on every Linux this runs on). */
const TICKS_PER_S = 100;

function statFields(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces or parentheses: fields start after its closing parenthesis.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) one process has used so far, from /proc (Linux); 0 when it is gone. */
export function cpuSecondsOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const f = statFields(pid);
  // Fields 14 and 15 of stat (utime, stime), counted from the state field (3) here.
  return f ? (Number(f[11]) + Number(f[12])) / TICKS_PER_S : 0;
}

/** CPU seconds used so far by every process whose command name is `comm` (e.g. all PostgreSQL backends). */
export function cpuSecondsByName(comm: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== comm) continue;
    } catch {
      continue;
    }
    total += cpuSecondsOf(Number(entry));
  }
  return total;
}
