import { defineConfig } from 'vitest/config';
import { sourceConditions } from './vitest.config';

/**
 * `npm run test:scale`: the end-to-end tests at scale (`*.scale.test.ts`), minutes each, kept out
 * of `npm test`. Nothing in them is timed: each test bounds itself.
 */
export default defineConfig({
  ...sourceConditions,
  test: {
    include: ['test/**/*.scale.test.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 300_000,
  },
});
