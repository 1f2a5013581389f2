// Three tiers, one runner: `npm test` runs them all, `npm run test:<tier>` one of them.
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  // @nestjs/jwt ships only ES modules: compiled to CommonJS for jest like our own sources (Node itself loads it).
  transform: { '^.+\\.ts$': swc, '/node_modules/@nestjs/jwt/.+\\.js$': swc },
  transformIgnorePatterns: ['/node_modules/(?!@nestjs/jwt/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@vigil/contracts$': '<rootDir>/libs/contracts/src',
    '^@vigil/contracts/(.*)$': '<rootDir>/libs/contracts/src/$1',
    '^@vigil/geometry$': '<rootDir>/libs/geometry/src',
    '^@vigil/geometry/(.*)$': '<rootDir>/libs/geometry/src/$1',
    '^@vigil/common$': '<rootDir>/libs/common/src',
    '^@vigil/common/(.*)$': '<rootDir>/libs/common/src/$1',
  },
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,edge}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/{apps,libs,edge}/**/*.int-spec.ts'],
      slowTestThreshold: 30,
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], slowTestThreshold: 60 },
  ],
};
