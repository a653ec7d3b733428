import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_DIR, packageFile, packageModule, RUNS_FROM_BUILD } from '../lib/package-files';

describe('the files of the sluice package', () => {
  it('are found from the package root, the folder of its package.json', () => {
    expect(PACKAGE_DIR).toBe(resolve(__dirname, '..'));
    expect(existsSync(packageFile('bin/sluice.js'))).toBe(true);
  });

  it('are the TypeScript sources when running from them (tests, a checkout)', () => {
    expect(RUNS_FROM_BUILD).toBe(false);
    expect(packageModule('lambdas/launcher/index.ts')).toBe(join(PACKAGE_DIR, 'lambdas/launcher/index.ts'));
    expect(existsSync(packageModule('lambdas/launcher/index.ts'))).toBe(true);
  });

  it('are their build under dist/ when running from it (an installed package)', () => {
    expect(packageModule('lambdas/launcher/index.ts', true)).toBe(join(PACKAGE_DIR, 'dist/lambdas/launcher/index.js'));
  });
});
