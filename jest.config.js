// ts-jest transpiles only (isolatedModules); `npm test` runs `tsc --noEmit` first, so types are still checked.
// aedes 1.x is ESM-only and Jest on Node 20 cannot require(esm): let ts-jest transpile it (docs/decisions/0002).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  transform: {
    '^.+\\.[tj]s$': [
      'ts-jest',
      {
        tsconfig: {
          isolatedModules: true,
          module: 'commonjs',
          moduleResolution: 'node10',
          verbatimModuleSyntax: false,
          allowJs: true,
          esModuleInterop: true,
        },
      },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!aedes/)'],
  testTimeout: 20000,
};
