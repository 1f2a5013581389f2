import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_VARIABLES } from './app-config';

describe('README configuration table', () => {
  it('documents every environment variable the centre reads', () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', '..', 'README.md'), 'utf8');
    const table = readme.split('## Configuration (control centre)')[1]?.split('\n## ')[0] ?? '';
    expect(ENV_VARIABLES.filter((name) => !table.includes(`\`${name}\``))).toEqual([]);
  });
});
