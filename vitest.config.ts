import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * `import ... from 'sluice'` in the example project (examples/) resolves through the package's
 * exports as a user's import does; the `sluice-source` condition (package.json) leads it to the
 * TypeScript sources, so the tests need no build and never run a stale dist/.
 */
export const sourceConditions = { resolve: { conditions: ['sluice-source'] }, ssr: { resolve: { conditions: ['sluice-source'] } } };

export default defineConfig({
  ...sourceConditions,
  test: {
    include: ['test/**/*.test.ts', 'examples/test/**/*.test.ts'],
    // Tests at scale take minutes: `npm run test:scale` runs them (vitest.scale.config.ts).
    exclude: [...configDefaults.exclude, 'test/**/*.scale.test.ts'],
    // CDK synth with esbuild bundling and the end-to-end tests take seconds, not milliseconds.
    testTimeout: 120_000,
    // Most files spend their time waiting for the CLI processes and local services they start:
    // two at once even on 2 cores (vitest's default there is one) took the suite from 10 to 6 minutes.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    hookTimeout: 300_000,
    // expect.poll waits for what another process or a browser does: a second (the default) is
    // too short on a loaded machine, where a local run can take several.
    expect: { poll: { timeout: 20_000, interval: 100 } },
  },
});
