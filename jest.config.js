/** Tests run against the real PostgreSQL and Redis on this machine; see tests/setup/. */
module.exports = {
  // Shares the host's typed-array constructors with each test realm: onnxruntime-node checks them.
  testEnvironment: '<rootDir>/tests/setup/ort-environment.js',
  roots: ['<rootDir>/tests', '<rootDir>/src'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  globalSetup: '<rootDir>/tests/setup/global-setup.ts',
  globalTeardown: '<rootDir>/tests/setup/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/tests/setup/per-file-database.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
};
