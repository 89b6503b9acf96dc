import { defineConfig } from 'vitest/config';

// `npm run test:cluster`: the README's multi-host recipe through GNU parallel
// and a real sshd on the loopback address (needs parallel, sshd and rsync).
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
  },
});
