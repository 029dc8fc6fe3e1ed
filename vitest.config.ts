// Test runner config: one Node process for unit and integration tests; integration suites start real
// services (workerd, backend) themselves, so they get long timeouts and run files one at a time.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Chromium tests run with `npm run test:browser` (test/browser/vitest.config.ts).
    exclude: ['test/browser/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
