export const READINESS = Symbol('READINESS');

export interface ReadinessProbe {
  check(): Promise<Record<string, boolean>>;
}
