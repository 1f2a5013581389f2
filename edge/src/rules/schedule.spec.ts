import type { Schedule } from '@vigil/contracts';

import { isScheduleActive, localWeekMinute, ScheduleClock } from './schedule';

const at = (iso: string) => Date.parse(iso);

describe('schedule', () => {
  it('reads local weekday and minute in the named zone, across DST', () => {
    // 2026-03-29 is the spring-forward Sunday in Europe (02:00 CET -> 03:00 CEST).
    expect(localWeekMinute(at('2026-03-29T00:59:00Z'), 'Europe/Rome')).toEqual({ weekday: 6, minute: 1 * 60 + 59 });
    expect(localWeekMinute(at('2026-03-29T01:00:00Z'), 'Europe/Rome')).toEqual({ weekday: 6, minute: 3 * 60 });
    expect(localWeekMinute(at('2026-11-23T23:30:00Z'), 'Asia/Tokyo')).toEqual({ weekday: 1, minute: 8 * 60 + 30 });
  });

  const weekdays: Schedule = {
    timezone: 'Europe/Rome',
    windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '19:30' }],
  };

  it('is active from `from` inclusive to `to` exclusive, on listed days only', () => {
    // Monday 2026-11-23, Rome is UTC+1 in winter.
    expect(isScheduleActive(weekdays, at('2026-11-23T06:59:59Z'))).toBe(false); // 07:59:59 local
    expect(isScheduleActive(weekdays, at('2026-11-23T07:00:00Z'))).toBe(true); // 08:00 local
    expect(isScheduleActive(weekdays, at('2026-11-23T18:29:59Z'))).toBe(true); // 19:29:59 local
    expect(isScheduleActive(weekdays, at('2026-11-23T18:30:00Z'))).toBe(false); // 19:30 local
    expect(isScheduleActive(weekdays, at('2026-11-22T10:00:00Z'))).toBe(false); // Sunday
    expect(isScheduleActive(null, at('2026-11-22T10:00:00Z'))).toBe(true);
  });

  it('follows the local clock through a DST change (08:00 local stays 08:00)', () => {
    // Monday 2026-06-22, Rome is UTC+2 in summer.
    expect(isScheduleActive(weekdays, at('2026-06-22T05:59:00Z'))).toBe(false);
    expect(isScheduleActive(weekdays, at('2026-06-22T06:00:00Z'))).toBe(true);
  });

  it('gives a window spanning midnight to the day it starts on', () => {
    const fridayNight: Schedule = { timezone: 'UTC', windows: [{ days: ['fri'], from: '22:00', to: '06:00' }] };
    expect(isScheduleActive(fridayNight, at('2026-11-27T21:59:00Z'))).toBe(false); // Fri 21:59
    expect(isScheduleActive(fridayNight, at('2026-11-27T22:00:00Z'))).toBe(true); // Fri 22:00
    expect(isScheduleActive(fridayNight, at('2026-11-28T00:00:00Z'))).toBe(true); // Sat 00:00
    expect(isScheduleActive(fridayNight, at('2026-11-28T05:59:00Z'))).toBe(true); // Sat 05:59
    expect(isScheduleActive(fridayNight, at('2026-11-28T06:00:00Z'))).toBe(false); // Sat 06:00
    expect(isScheduleActive(fridayNight, at('2026-11-28T23:00:00Z'))).toBe(false); // Sat night: not listed
    expect(isScheduleActive(fridayNight, at('2026-11-27T03:00:00Z'))).toBe(false); // Fri morning: Thu not listed
  });

  it('caches per minute without changing the answer', () => {
    const clock = new ScheduleClock(weekdays);
    const t0 = at('2026-11-23T06:59:00Z');
    const answers = Array.from({ length: 120 }, (_, s) => clock.isActive(t0 + s * 1000));
    expect(answers.slice(0, 60).every((a) => !a)).toBe(true);
    expect(answers.slice(60).every((a) => a)).toBe(true);
  });
});
