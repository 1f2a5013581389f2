export * from './geometry.types';
export * from './frame.geometry';
export * from './segment.geometry';
export * from './polygon.geometry';
export * from './box.geometry';
