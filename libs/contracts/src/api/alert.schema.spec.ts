import {
  ALERT_KINDS,
  ALERT_NOTE_MAX_CHARS,
  ALERT_SEVERITY,
  AlertListQuerySchema,
  AlertNoteBodySchema,
  AlertTransitionBodySchema,
} from './alert.schema';

describe('alert API schemas', () => {
  it('gives every kind a severity', () => {
    expect(Object.keys(ALERT_SEVERITY).sort()).toEqual([...ALERT_KINDS].sort());
  });

  it('parses a list query string: repeated filters become arrays, defaults apply', () => {
    const q = AlertListQuerySchema.parse({ state: ['new', 'acknowledged'], severity: 'high', limit: '20' });
    expect(q).toMatchObject({ state: ['new', 'acknowledged'], severity: ['high'], limit: 20, order: 'desc' });
  });

  it('refuses unknown parameters, unknown states and an inverted time range, naming the field', () => {
    const paths = (input: unknown) =>
      AlertListQuerySchema.safeParse(input).error?.issues.map((i) => i.path.join('.') || i.code);
    expect(paths({ colour: 'red' })).toEqual(['unrecognized_keys']);
    expect(paths({ state: 'open' })).toEqual(['state']);
    expect(paths({ from: '2026-11-21T09:00:00Z', to: '2026-11-21T08:00:00Z' })).toEqual(['from']);
    expect(paths({ after: '-1' })).toEqual(['after']);
  });

  it('requires the expected version on a transition and refuses unknown fields', () => {
    expect(AlertTransitionBodySchema.safeParse({ action: 'acknowledge' }).success).toBe(false);
    expect(AlertTransitionBodySchema.safeParse({ action: 'acknowledge', expectedVersion: 1, x: 1 }).success).toBe(
      false,
    );
    expect(AlertTransitionBodySchema.parse({ action: 'resolve', expectedVersion: 3, note: ' done ' })).toEqual({
      action: 'resolve',
      expectedVersion: 3,
      note: 'done',
    });
  });

  it('bounds a note', () => {
    expect(AlertNoteBodySchema.safeParse({ note: 'x'.repeat(ALERT_NOTE_MAX_CHARS) }).success).toBe(true);
    const long = AlertNoteBodySchema.safeParse({ note: 'x'.repeat(ALERT_NOTE_MAX_CHARS + 1) });
    expect(long.error?.issues[0].path).toEqual(['note']);
    expect(AlertNoteBodySchema.safeParse({ note: '   ' }).success).toBe(false);
  });
});
