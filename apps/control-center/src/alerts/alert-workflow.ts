import type { AlertState, AlertTransitionAction, Role } from '@vigil/contracts';

/**
 * The operator workflow, as data: which action moves which state where. Linear on purpose
 * (`new -> acknowledged -> in_progress -> resolved | false_positive`): every closed alert was looked at and worked.
 */
export const ALERT_TRANSITIONS: Readonly<
  Record<AlertTransitionAction, { from: readonly AlertState[]; to: AlertState }>
> = {
  acknowledge: { from: ['new'], to: 'acknowledged' },
  start: { from: ['acknowledged'], to: 'in_progress' },
  resolve: { from: ['in_progress'], to: 'resolved' },
  false_positive: { from: ['in_progress'], to: 'false_positive' },
};

/** Every operator action on an alert: the transitions, and the changes that keep the state. */
export type AlertAction = AlertTransitionAction | 'assign' | 'note' | 'confirm';

/**
 * Who may do what. Auditors read, never act; traffic analysts see counts only, never alert details (BRIEF §6).
 * Confirming a parking violation is human oversight by an operator (or an admin acting as one).
 */
export const ALERT_ACTION_ROLES: Readonly<Record<AlertAction, readonly Role[]>> = {
  acknowledge: ['admin', 'operator'],
  start: ['admin', 'operator'],
  resolve: ['admin', 'operator'],
  false_positive: ['admin', 'operator'],
  assign: ['admin', 'operator'],
  note: ['admin', 'operator'],
  confirm: ['admin', 'operator'],
};

/** Roles that may list and read alerts. */
export const ALERT_READ_ROLES: readonly Role[] = ['admin', 'operator', 'auditor'];

export function mayDo(role: Role, action: AlertAction): boolean {
  return ALERT_ACTION_ROLES[action].includes(role);
}

export function mayRead(role: Role): boolean {
  return ALERT_READ_ROLES.includes(role);
}

/** The actions allowed from `state`. */
export function actionsFrom(state: AlertState): AlertTransitionAction[] {
  return (Object.keys(ALERT_TRANSITIONS) as AlertTransitionAction[]).filter((a) =>
    ALERT_TRANSITIONS[a].from.includes(state),
  );
}

export type TransitionOutcome = { ok: true; to: AlertState } | { ok: false; reason: string };

/** Where `action` takes an alert in `state`, or why it cannot (naming the current state and what is allowed). */
export function nextState(state: AlertState, action: AlertTransitionAction): TransitionOutcome {
  const t = ALERT_TRANSITIONS[action];
  if (t.from.includes(state)) return { ok: true, to: t.to };
  const allowed = actionsFrom(state);
  return {
    ok: false,
    reason:
      `cannot ${action.replace('_', ' ')} an alert that is ${state.replace('_', ' ')}; ` +
      (allowed.length > 0 ? `allowed from ${state}: ${allowed.join(', ')}` : `${state} is final`),
  };
}
