// `npm run test:browser`: the demo page in Debian's Chromium (playwright-core) against the real stack. Kept out of
// `npm test` because it needs /usr/bin/chromium (.ci/run installs it) and takes ~30 s.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
