import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The cluster test needs GNU parallel and sshd: `npm run test:cluster` runs it.
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
    // CLI tests spawn the built binary; give them room on a loaded CI machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
