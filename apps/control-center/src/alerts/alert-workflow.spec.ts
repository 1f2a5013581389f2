import { ALERT_STATES, ALERT_TRANSITION_ACTIONS, ROLES, type AlertState } from '@vigil/contracts';
import { actionsFrom, mayDo, mayRead, nextState } from './alert-workflow';

describe('alert workflow', () => {
  it('moves new -> acknowledged -> in_progress -> resolved | false_positive', () => {
    expect(nextState('new', 'acknowledge')).toEqual({ ok: true, to: 'acknowledged' });
    expect(nextState('acknowledged', 'start')).toEqual({ ok: true, to: 'in_progress' });
    expect(nextState('in_progress', 'resolve')).toEqual({ ok: true, to: 'resolved' });
    expect(nextState('in_progress', 'false_positive')).toEqual({ ok: true, to: 'false_positive' });
  });

  it('allows exactly the four forward steps and nothing else', () => {
    const legal: string[] = [];
    for (const state of ALERT_STATES) {
      for (const action of ALERT_TRANSITION_ACTIONS) {
        if (nextState(state, action).ok) legal.push(`${state}:${action}`);
      }
    }
    expect(legal.sort()).toEqual(
      ['acknowledged:start', 'in_progress:false_positive', 'in_progress:resolve', 'new:acknowledge'].sort(),
    );
  });

  it('names the current state and the allowed actions when it refuses', () => {
    expect(nextState('new', 'resolve')).toEqual({
      ok: false,
      reason: 'cannot resolve an alert that is new; allowed from new: acknowledge',
    });
    const final = nextState('resolved', 'acknowledge');
    expect(final).toEqual({ ok: false, reason: 'cannot acknowledge an alert that is resolved; resolved is final' });
  });

  it('treats resolved and false_positive as final', () => {
    const finals: AlertState[] = ['resolved', 'false_positive'];
    for (const s of finals) expect(actionsFrom(s)).toEqual([]);
  });

  it('lets operators and admins act, auditors only read, traffic analysts neither', () => {
    expect(ROLES.filter((r) => mayDo(r, 'acknowledge'))).toEqual(['admin', 'operator']);
    expect(ROLES.filter((r) => mayDo(r, 'confirm'))).toEqual(['admin', 'operator']);
    expect(ROLES.filter((r) => mayDo(r, 'note'))).toEqual(['admin', 'operator']);
    expect(ROLES.filter((r) => mayRead(r))).toEqual(['admin', 'operator', 'auditor']);
  });
});
