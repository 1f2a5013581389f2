export * from './evidence.renderer';
export * from './evidence.service';
