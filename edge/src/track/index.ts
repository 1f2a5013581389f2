export * from './byte-tracker';
export * from './class-groups';
export * from './kalman-box.filter';
export * from './linear-assignment';
export * from './track.types';
