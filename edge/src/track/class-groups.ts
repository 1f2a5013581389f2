import type { ObjectClass } from '@vigil/contracts/common.schema';

/**
 * Classes a detector confuses with each other for the same physical object. A van flickers between car and truck,
 * a scooter between bicycle and motorcycle, but a person never turns into a car: the tracker only associates within
 * a group, and the line counter's id-switch suppression only compares tracks of one group.
 */
export type ClassGroup = 'person' | 'two_wheeler' | 'motor_vehicle';

export const DEFAULT_CLASS_GROUPS: Readonly<Record<ObjectClass, ClassGroup>> = {
  person: 'person',
  bicycle: 'two_wheeler',
  motorcycle: 'two_wheeler',
  car: 'motor_vehicle',
  bus: 'motor_vehicle',
  truck: 'motor_vehicle',
};

export function classGroupOf(cls: ObjectClass): ClassGroup {
  return DEFAULT_CLASS_GROUPS[cls];
}
