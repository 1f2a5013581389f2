/** Request and response bodies of the centre's REST API. */
export * from './error.schema';
export * from './health.schema';
export * from './pagination.schema';
export * from './role.schema';
export * from './alert.schema';
export * from './auth.schema';
export * from './user.schema';
export * from './evidence.schema';
export * from './fleet.schema';
