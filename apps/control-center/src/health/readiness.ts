import type { ReadinessChecks } from '@vigil/contracts';

export const READINESS = Symbol('READINESS');

export interface ReadinessProbe {
  check(): Promise<ReadinessChecks>;
}
