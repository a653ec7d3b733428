import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the files of the sluice package are. The same code runs from its TypeScript sources (a
 * checkout of the repository, the tests) and from its build (`dist/`, as installed from the
 * registry, where esbuild has gathered modules into a few files): paths relative to one module's
 * own location would differ between the two, so every file the package finds on disk at run time
 * (Lambda entry points, the CLI, the console's browser app) is found here.
 */
const HERE = fileURLToPath(import.meta.url);

/** The package's root folder: the nearest folder above this module holding a package.json. */
export const PACKAGE_DIR = findPackageDir(dirname(HERE));

/** True when running the built JavaScript of `dist/`, false when running the TypeScript sources. */
export const RUNS_FROM_BUILD = !/\.[cm]?ts$/.test(HERE);

/**
 * Export conditions for bundling a project's code: run from the sources (this repository), its
 * `import ... from 'sluice'` resolves through the package's `sluice-source` condition to those
 * sources, as tsx, vitest and TypeScript resolve it there (package.json); installed, none.
 */
export const SOURCE_CONDITIONS: readonly string[] = RUNS_FROM_BUILD ? [] : ['sluice-source'];

/**
 * The module to run for a source module of the package, given by its path in the repository
 * (`lambdas/launcher/index.ts`): that file itself when running from the sources, else its build
 * (`dist/lambdas/launcher/index.js`).
 */
export function packageModule(sourcePath: string, fromBuild = RUNS_FROM_BUILD): string {
  if (!fromBuild) return join(PACKAGE_DIR, sourcePath);
  return join(PACKAGE_DIR, 'dist', sourcePath.replace(/\.[cm]?tsx?$/, '.js'));
}

/** A file the package ships as it is, in both forms (`bin/sluice.js`, `local/ui/app/main.tsx`). */
export function packageFile(path: string): string {
  return join(PACKAGE_DIR, path);
}

function findPackageDir(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`sluice is damaged: no package.json above ${start}; reinstall it`);
  }
}
