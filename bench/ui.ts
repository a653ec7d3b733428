import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listPartitions } from '../lib/compile/partition-keys';
import { LocalRuntime } from '../local/runtime';
import { LocalConsoleSource, startConsoleServer, TOKEN_HEADER } from '../local/ui';
import { launchBrowser } from '../test/local/ui/browser';
import { quantile, type BenchResult } from './stats';

const PROJECT_DIR = fileURLToPath(new URL('../examples/', import.meta.url));
const CLI = fileURLToPath(new URL('../bin/sluice.js', import.meta.url));
/** The CLI as installed from the package: built JavaScript (built here first). */
const BUILT_CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
// The console's test fixtures: `readings` has exactly 100,000 hourly partitions.
const PIPELINES_DIR = fileURLToPath(new URL('../test/local/ui/fixtures/pipelines/', import.meta.url));
const SCRATCH_DIR = fileURLToPath(new URL('../.sluice/', import.meta.url));
const PIPELINE = 'readings';

interface Row extends Record<string, string | number> {
  readonly measure: string;
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  readonly unit: string;
  readonly goal: string;
}

/**
 * The web console at 100,000 partitions, on the local runtime with `SEEDED` (default 1,000)
 * partitions recorded as succeeded or failed: (a) the status API (`GET .../partitions`, every
 * partition of the pipeline, and the overview), `REQUESTS` (default 100) sequential requests after
 * one warm-up; (b) `sluice status` over the 100,000 partitions as a user runs it (a process of
 * the CLI, `--json` and `--grid`), against the same command over one partition (what every command
 * pays to start: Node.js, the CLI's modules, reading the local stage over the services),
 * `COMMANDS` (default 5) of each, from the TypeScript sources (bin/sluice.js in this checkout,
 * through tsx) and from the package's build (dist/cli.js, what an installed package runs); (c) in headless Chromium, from navigation to the grid of 100,000
 * partitions on screen (page, script, API call, layout and render), `LOADS` (default 5) page loads.
 */
export async function run(): Promise<BenchResult> {
  const seeded = Number(process.env.SEEDED ?? 1_000);
  const requests = Number(process.env.REQUESTS ?? 100);
  const loads = Number(process.env.LOADS ?? 5);
  const commands = Number(process.env.COMMANDS ?? 5);
  mkdirSync(SCRATCH_DIR, { recursive: true });
  const home = mkdtempSync(join(SCRATCH_DIR, 'bench-ui-'));
  const runtime = await LocalRuntime.start({ projectDir: PROJECT_DIR, pipelinesDir: PIPELINES_DIR, home });
  try {
    process.stderr.write(`seeding ${seeded} partitions of ${PIPELINE}…\n`);
    await seed(runtime, seeded);
    process.stderr.write('measuring the status API…\n');
    const server = await startConsoleServer({ source: new LocalConsoleSource(runtime, { pipelinesDir: PIPELINES_DIR, home }) });
    try {
      const api = async (path: string) => {
        const started = performance.now();
        const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { headers: { [TOKEN_HEADER]: server.token } });
        if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
        await response.arrayBuffer();
        return performance.now() - started;
      };
      const rows: Row[] = [];
      for (const [measure, path] of [
        [`status API: ${PIPELINE} partitions (100,000)`, `/api/pipelines/${PIPELINE}/partitions`],
        ['status API: overview', '/api/overview'],
      ] as const) {
        const first = await api(path);
        const times: number[] = [];
        for (let i = 0; i < requests; i++) times.push(await api(path));
        rows.push(row(measure, times, 'ms', 'p95 < 100'));
        rows.push(row(`${measure}, first request (key listing)`, [first], 'ms', ''));
      }

      process.stderr.write('measuring sluice status…\n');
      const keys = listPartitions(runtime.pipeline(PIPELINE).config.partitions!, { now: new Date() });
      const every = ['--from', keys[0]!, '--to', keys.at(-1)!];
      execFileSync(process.execPath, [fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url)), 'scripts/build.ts'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'ignore' });
      for (const [variant, cli] of [['sources', CLI], ['built', BUILT_CLI]] as const) {
        // The sources and the build hash differently: the first command of each synthesizes.
        await sluiceStatus(cli, home, ['--from', keys[0]!, '--to', keys[0]!, '--json']);
        for (const [measure, args, goal] of [
          ['one partition (the start every command pays)', ['--from', keys[0]!, '--to', keys[0]!, '--json'], ''],
          [`${PIPELINE}, 100,000 partitions, --json`, [...every, '--json'], '< 1000'],
          [`${PIPELINE}, 100,000 partitions, --grid`, [...every, '--grid'], '< 1000'],
        ] as const) {
          const times: number[] = [];
          for (let i = 0; i < commands; i++) times.push(await sluiceStatus(cli, home, args));
          rows.push(row(`sluice status (${variant}): ${measure}`, times, 'ms', goal));
        }
      }

      process.stderr.write('measuring the grid in Chromium…\n');
      const browser = await launchBrowser();
      try {
        // One page, loaded afresh each time (closing the last page ends a single-process Chromium).
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        const times: number[] = [];
        for (let i = 0; i < loads; i++) {
          await page.goto('about:blank');
          await page.goto(`${server.url}#/pipelines/${PIPELINE}`);
          // Milliseconds from the start of the navigation, as the page measured it.
          const ready = await page.locator('[data-grid][data-ready]').getAttribute('data-ready', { timeout: 30_000 });
          const cells = await page.locator('[data-grid] .cell').count();
          if (cells === 0) throw new Error('the grid rendered no cell');
          times.push(Number(ready));
        }
        rows.push(row('browser: navigation to 100,000-partition grid on screen', times, 'ms', '< 1000'));
      } finally {
        await browser.close();
      }
      return { title: `web console: status API and grid render at 100,000 partitions (${seeded} recorded)`, rows };
    } finally {
      await server.stop();
    }
  } finally {
    await runtime.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

/** Milliseconds `sluice status readings <args>` takes as a process of `cli`, from spawn to exit 0. */
async function sluiceStatus(cli: string, home: string, args: readonly string[]): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_HOME: home, SLUICE_PIPELINES: PIPELINES_DIR, NO_COLOR: '1' };
  // As a user's shell starts it: no loader options inherited from this tsx process.
  delete env.NODE_OPTIONS;
  const started = performance.now();
  const child = spawn(process.execPath, [cli, 'status', PIPELINE, ...args], {
    cwd: PROJECT_DIR,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`sluice status ${args.join(' ')} exited with ${code}: ${stderr}`);
  return performance.now() - started;
}

/** Records `count` partitions spread over the range, one in ten failed, through the partition store. */
async function seed(runtime: LocalRuntime, count: number): Promise<void> {
  const spec = runtime.pipeline(PIPELINE).config.partitions!;
  const keys = listPartitions(spec, { now: new Date() });
  const store = await runtime.partitionStore(PIPELINE);
  const step = Math.max(1, Math.floor(keys.length / count));
  const chosen = keys.filter((_, i) => i % step === 0).slice(0, count);
  for (let i = 0; i < chosen.length; i += 20) {
    await Promise.all(
      chosen.slice(i, i + 20).map(async (partition, j) => {
        const claim = await store.claim(PIPELINE, partition, { trigger: 'backfill', now: new Date() });
        if (claim.kind !== 'claimed') return;
        if ((i + j) % 10 === 0) await store.markFailed(PIPELINE, partition, claim.runId, { error: 'SeededError', cause: 'seeded by the bench' });
        else await store.markSucceeded(PIPELINE, partition, claim.runId);
      }),
    );
  }
}

function row(measure: string, times: readonly number[], unit: string, goal: string): Row {
  const round = (x: number) => Math.round(x * 10) / 10;
  return { measure, n: times.length, p50: round(quantile(times, 0.5)), p95: round(quantile(times, 0.95)), max: round(Math.max(...times)), unit, goal };
}
