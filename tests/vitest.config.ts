import { defineConfig } from 'vitest/config';

// Tests are deterministic (seeded randomness) and carry no timing assertions: speed lives in `npm run bench`.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['tests/global-build.ts'],
  },
});
