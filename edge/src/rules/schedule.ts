import type { Schedule } from '@vigil/contracts';

const WEEKDAY_INDEX: Record<string, number> = { mon: 0, tue: 1, wed: 2, thu: 3, fri: 4, sat: 5, sun: 6 };
const SHORT_TO_INDEX: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Local weekday (0 = Monday) and minute of the day of an instant in an IANA time zone, DST included. */
export function localWeekMinute(tMs: number, timeZone: string): { weekday: number; minute: number } {
  let weekday = -1;
  let hour = 0;
  let minute = 0;
  for (const part of formatterFor(timeZone).formatToParts(tMs)) {
    if (part.type === 'weekday') weekday = SHORT_TO_INDEX[part.value] ?? -1;
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  if (weekday < 0) throw new Error(`cannot read the weekday of ${tMs} in ${timeZone}`);
  return { weekday, minute: hour * 60 + minute };
}

function hhmm(value: string): number {
  const [h, m] = value.split(':').map(Number);
  return h * 60 + m;
}

/**
 * Whether a schedule is active at an instant, in the schedule's own time zone. A window covers [from, to) local
 * time on each of its days; a window whose `to` is earlier than `from` spans midnight and belongs to the day it
 * starts on (fri 22:00-06:00 covers Friday night into Saturday morning, not Saturday night). `null` means always.
 *
 * Why minute-level caching is safe: windows are whole minutes and every zone offset in use is a whole number of
 * minutes, so the answer can only change on a minute boundary.
 */
export class ScheduleClock {
  private cachedMinute = Number.NaN;
  private cachedActive = false;

  constructor(readonly schedule: Schedule | null) {}

  isActive(tMs: number): boolean {
    if (this.schedule === null) return true;
    const minuteKey = Math.floor(tMs / 60_000);
    if (minuteKey !== this.cachedMinute) {
      this.cachedActive = isScheduleActive(this.schedule, tMs);
      this.cachedMinute = minuteKey;
    }
    return this.cachedActive;
  }
}

export function isScheduleActive(schedule: Schedule | null, tMs: number): boolean {
  if (schedule === null) return true;
  const { weekday, minute } = localWeekMinute(tMs, schedule.timezone);
  const yesterday = (weekday + 6) % 7;
  return schedule.windows.some((w) => {
    const days = w.days.map((d) => WEEKDAY_INDEX[d]);
    const from = hhmm(w.from);
    const to = hhmm(w.to);
    if (from < to) return days.includes(weekday) && minute >= from && minute < to;
    // Spans midnight: the evening part on a listed day, or the morning part after a listed day.
    return (days.includes(weekday) && minute >= from) || (days.includes(yesterday) && minute < to);
  });
}
