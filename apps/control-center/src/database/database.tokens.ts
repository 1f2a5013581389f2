/** Injection token of the open `Database` (an interface, so it needs a token of its own). */
export const DATABASE = Symbol('DATABASE');
