import { RuleConfigSchema } from '@vigil/contracts';

import { DwellViolationRule } from './dwell-violation';
import { LineCounter } from './line-counter';
import { createRule, ruleKey, ruleKinds } from './rule.registry';
import type { RuleGeometry } from './rule.types';
import { rect, sequentialIds, TEST_MODEL } from './testing/synthetic-tracks';

const geometry: RuleGeometry = {
  zones: new Map([
    ['kerb', { id: 'kerb', cameraId: 'cam-1', name: 'Kerb', kind: 'no_parking', polygon: rect(0.6, 0.1, 0.9, 0.4) }],
    ['zebra', { id: 'zebra', cameraId: 'cam-1', name: 'Zebra', kind: 'crosswalk', polygon: rect(0.1, 0.6, 0.4, 0.9) }],
  ]),
  lines: new Map([
    [
      'line',
      {
        id: 'line',
        cameraId: 'cam-1',
        name: 'Line',
        start: [0.1, 0.5] as [number, number],
        end: [0.9, 0.5] as [number, number],
        directions: { a_to_b: 'in', b_to_a: 'out' },
      },
    ],
  ]),
};
const ctx = { deps: { newId: sequentialIds(), model: () => TEST_MODEL, wallOf: (t: number) => t } };

describe('rule registry', () => {
  it('knows every rule kind of the contract', () => {
    const contractKinds = RuleConfigSchema.options.map((o) => o.shape.kind.value).sort();
    expect(ruleKinds().sort()).toEqual(contractKinds);
  });

  it('creates each kind by its kind, and keys it by its geometry on this camera', () => {
    const rules = [
      RuleConfigSchema.parse({ id: 'c', kind: 'line_count', lineId: 'line' }),
      RuleConfigSchema.parse({ id: 'p', kind: 'parking_violation', zoneId: 'kerb', dwellSeconds: 60 }),
      RuleConfigSchema.parse({ id: 'b', kind: 'pedestrian_blocking', zoneId: 'zebra', dwellSeconds: 10 }),
    ];
    const [count, parking, blocking] = rules.map((r) => createRule(r, geometry, ctx));
    expect(count).toBeInstanceOf(LineCounter);
    expect(parking).toBeInstanceOf(DwellViolationRule);
    expect((blocking as DwellViolationRule).kind).toBe('pedestrian_blocking');
    expect(rules.map((r) => r.id)).toEqual([count.ruleId, parking.ruleId, blocking.ruleId]);
    expect(rules.every((r) => ruleKey(r, geometry) !== null)).toBe(true);
    const elsewhere = RuleConfigSchema.parse({ id: 'x', kind: 'parking_violation', zoneId: 'other', dwellSeconds: 5 });
    expect(ruleKey(elsewhere, geometry)).toBeNull();
  });

  it('refuses to turn a rule into another kind in place', () => {
    const parking = createRule(
      RuleConfigSchema.parse({ id: 'p', kind: 'parking_violation', zoneId: 'kerb', dwellSeconds: 60 }),
      geometry,
      ctx,
    );
    expect(() => parking.reconfigure(RuleConfigSchema.parse({ id: 'p', kind: 'line_count', lineId: 'line' }))).toThrow(
      TypeError,
    );
  });
});
