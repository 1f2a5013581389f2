export * from './dwell-violation';
export * from './line-counter';
export * from './parking.rule';
export * from './pedestrian-blocking.rule';
export * from './rules-engine';
export * from './rules.types';
export * from './schedule';
export * from './stationarity';
