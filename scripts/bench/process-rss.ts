import { readFileSync, readdirSync } from 'node:fs';

const MB = 2 ** 20;

export interface ProcessRss {
  pid: number;
  /** Executable name as the kernel reports it (e.g. "node", "ffmpeg"). */
  command: string;
  /** Resident set size: counts shared library pages in full in every process that maps them. */
  rssMb: number;
  /**
   * Resident pages private to this process (smaps_rollup Private_Clean + Private_Dirty): what one more process of
   * the same program costs beyond the library pages it shares with the first (two ffmpeg decoders share ~40 MB).
   */
  privateMb: number;
}

const kbField = (text: string, field: string): number | null => {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
  return m ? (Number(m[1]) * 1024) / MB : null;
};

/** Memory of one process from /proc (Linux), null when it is gone. */
export function processRss(pid: number): ProcessRss | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const name = /^Name:\s+(.*)$/m.exec(status);
    const rssMb = kbField(status, 'VmRSS') ?? 0;
    let privateMb = rssMb;
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      privateMb = (kbField(rollup, 'Private_Clean') ?? 0) + (kbField(rollup, 'Private_Dirty') ?? 0);
    } catch {
      // Kernels without smaps_rollup: RSS is the (pessimistic) stand-in.
    }
    return { pid, command: name?.[1] ?? '?', rssMb, privateMb };
  } catch {
    return null;
  }
}

/** The direct children of a process (e.g. an edge's ffmpeg decoders), with their RSS. */
export function childrenRss(parentPid: number): ProcessRss[] {
  const out: ProcessRss[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the parenthesised command (which may contain spaces): state, ppid, ...
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== parentPid) continue;
    const rss = processRss(Number(entry));
    if (rss) out.push(rss);
  }
  return out;
}
