// tsc compiles TypeScript only: copy the non-TS files the build needs at run time next to the compiled code.
const { cpSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
for (const dir of ['apps/control-center/src/database/migrations', 'edge/tools/virtual-camera']) {
  cpSync(join(root, dir), join(root, 'dist', dir), {
    recursive: true,
    filter: (src) => !src.endsWith('.ts'),
  });
}
