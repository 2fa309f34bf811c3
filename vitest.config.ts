import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The CLI tests run the built commands: dist/ is compiled first, only when a source changed.
    globalSetup: ['test/global-setup.ts'],
    // Integration tests start real processes and sockets; two cores are all CI has.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    projects: [
      // Everything, the control plane on SQLite; test/integration/postgres needs the cluster the other project starts.
      // `include` is set per project, not at the root: a project that extends the root would
      // merge the root's list with its own and run the whole suite a second time.
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: ['test/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'test/integration/postgres/**', 'test/integration/packaging/**'],
        },
      },
      // The .deb packages, installed on this machine: their native addons are built for the Debian
      // nodejs package, so .ci/run's passes on other Node majors leave this project out.
      { extends: true, test: { name: 'packaging', include: ['test/integration/packaging/**/*.test.ts'] } },
      {
        // The control plane's tests again, on the PostgreSQL store (test/global-postgres.ts starts a throwaway cluster).
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/integration/control-plane/**/*.test.ts', 'test/integration/store/**/*.test.ts', 'test/integration/postgres/**/*.test.ts'],
          globalSetup: ['test/global-postgres.ts'],
          env: { CP_TEST_STORE: 'postgres' },
        },
      },
    ],
  },
});
