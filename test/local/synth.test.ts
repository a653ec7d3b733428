import { relative, resolve, sep } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { BACKFILL_ENTRY } from '../../lib/constructs/backfill-state-machine';
import { LAUNCHER_ENTRY } from '../../lib/constructs/launcher';
import { RUN_MONITOR_ENTRY } from '../../lib/constructs/run-monitor';
import { PACKAGE_DIR, packageModule } from '../../lib/package-files';
import { sourceRoots } from '../../local/synth';

describe('the sources a local build is cached by', () => {
  // A source of the package left out of the hash runs stale: the cached build and `sluice dev`
  // keep the old bundle of every function after an edit to it.
  it('hold every package module the CDK app and the functions are built from', async () => {
    const entries = [packageModule('lib/cdk.ts'), LAUNCHER_ENTRY, RUN_MONITOR_ENTRY, BACKFILL_ENTRY, packageModule('orchestration/task-invocation.ts')];
    const { metafile } = await build({ entryPoints: entries, bundle: true, write: false, platform: 'node', format: 'esm', packages: 'external', metafile: true, outdir: 'out', logLevel: 'silent' });
    const modules = Object.keys(metafile.inputs).map((input) => resolve(input)).filter((file) => file.startsWith(PACKAGE_DIR + sep));
    expect(modules.length).toBeGreaterThan(20);

    const roots = sourceRoots(resolve('examples'), resolve('examples/pipelines')).map((root) => root.path);
    const uncovered = modules.filter((file) => !roots.some((root) => file === root || file.startsWith(root + sep)));
    expect(uncovered.map((file) => relative(PACKAGE_DIR, file))).toEqual([]);
  });
});
