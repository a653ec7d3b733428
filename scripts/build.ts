/**
 * Builds the package into dist/: the JavaScript of its entry points (esbuild, one module graph
 * with shared chunks, dependencies left to node_modules), the Lambda handlers as the entry files
 * NodejsFunction bundles from an installed package, and the type declarations (tsc). Run by
 * `npm run build` and by `npm pack` (prepack).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { build, type BuildOptions } from 'esbuild';

const common: BuildOptions = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  packages: 'external',
  outdir: 'dist',
  logLevel: 'warning',
};

rmSync('dist', { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { index: 'lib/index.ts', cdk: 'lib/cdk.ts', testing: 'local/testing.ts', cli: 'local/cli/main.ts' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
});
// One self-contained file per handler and for the task wrapper (no chunks shared with the CLI or the CDK side).
await build({
  ...common,
  entryPoints: [
    ...['launcher', 'run-monitor', 'backfill'].map((name) => ({ in: `lambdas/${name}/index.ts`, out: `lambdas/${name}/index` })),
    // What every task function's generated entry imports (see taskEntry).
    { in: 'orchestration/task-invocation.ts', out: 'orchestration/task-invocation' },
  ],
});
execFileSync('tsc', ['-p', 'tsconfig.build.json'], { stdio: 'inherit' });
