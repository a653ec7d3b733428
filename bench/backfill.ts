import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listPartitions } from '../lib/compile/partition-keys';
import { resolveBackfillRequest } from '../lib/compile/backfill';
import { startBackfill } from '../local/backfills';
import { FUNCTION_LOG } from '../local/cli/context';
import { captureFunctionOutput } from '../local/cli/io';
import { LocalRuntime } from '../local/runtime';
import { findLiveServices } from '../local/services/shared';
import { cpuPer, readCpu } from './cpu';
import { runRequests } from './run-requests';
import type { BenchResult } from './stats';

const PROJECT_DIR = fileURLToPath(new URL('../examples/', import.meta.url));
// Inside the project: NodejsFunction bundles only entries under the project root.
const PIPELINES_DIR = fileURLToPath(new URL('./fixtures/pipelines/', import.meta.url));
const SCRATCH_DIR = fileURLToPath(new URL('../.sluice/', import.meta.url));

/** Runs per concurrent slot of the warm-up backfill before each measured one, at most. */
const WARM_UP_RUNS_PER_SLOT = 25;

/** Runs of the case that makes only a run's DynamoDB requests. */
const REQUEST_RUNS = 3_000;

/** An ideal run of the waiting fixture: three tasks of 50 ms in a chain. */
const IDEAL_RUN_SECONDS = 0.15;

interface Row extends Record<string, string | number> {
  readonly case: string;
  readonly partitions: number;
  readonly concurrency: number;
  readonly seconds: number;
  readonly 'runs/s': number;
  readonly 'achieved/ideal': string;
  /** The warm-up backfill's rate: its runs start the functions' sandboxes. */
  readonly 'warm-up runs/s': number | string;
  /** CPU per run of the measured backfill: main thread / sandboxes / other threads / services process. */
  readonly 'CPU ms/run (main/sandboxes/other/services)': string;
  readonly 'peak RSS MB': number;
  readonly goal: string;
}

/**
 * Backfills on the local runtime, through the pipelines' backfill state machines as `sluice
 * backfill` runs them (plan, Distributed Map of chunks, one `startExecution.sync` run per
 * partition, each through the claim, the run's own status writes and the run monitor):
 * (a) daily partitions of three no-op tasks: `PARTITIONS` (default 10,000) at concurrency 32, and
 * 8 × `WAIT_RUNS` per slot at concurrency 1 and 8 (200 and 1,600);
 * (b) runs of three 50 ms tasks at concurrency 1, 8 and 32, `WAIT_RUNS` runs per slot (default
 * 25: 25, 200 and 800 partitions), against the ideal throughput of concurrency ÷ 150 ms.
 * Each measured backfill follows a warm-up backfill at the same concurrency, as long as the
 * measured one up to {@link WARM_UP_RUNS_PER_SLOT} runs per slot, whose rate is shown beside it:
 * a function's first invocations start its sandboxes (up to 8 each, each loading its bundle and
 * the AWS SDK), as Lambda starts execution environments, and a short backfill would otherwise
 * measure mostly that, not what a long one sustains.
 * Peak RSS is this process's (engine, functions, CLI side); DynamoDB and S3 run in the shared
 * services process.
 * Each row gives the CPU a run cost, where it was spent (on Linux). A last row makes only the
 * DynamoDB requests of a no-op run ({@link runRequests}) against the same DynamoDB: the floor
 * under a run's CPU however lean the rest (interpreter, sandboxes, events) becomes.
 */
export async function run(): Promise<BenchResult> {
  const partitions = Number(process.env.PARTITIONS ?? 10_000);
  const perSlot = Number(process.env.WAIT_RUNS ?? 25);
  mkdirSync(SCRATCH_DIR, { recursive: true });
  const home = mkdtempSync(join(SCRATCH_DIR, 'bench-backfill-'));
  // What the functions print goes to a file, as under `sluice backfill`, not to the bench's table.
  const restore = captureFunctionOutput({ logFile: join(home, FUNCTION_LOG), verbose: false });
  const runtime = await LocalRuntime.start({ projectDir: PROJECT_DIR, pipelinesDir: PIPELINES_DIR, home });
  try {
    const services = await findLiveServices(home);
    if (!services) throw new Error(`bench backfill: the runtime's services process in ${home} is not running`);
    const bench: Bench = { runtime, servicesPid: services.pid };
    const rows: Row[] = [];
    for (const concurrency of [1, 8]) rows.push(await measure(bench, 'no-op tasks', 'bench-backfill-noop', perSlot * 8 * concurrency, concurrency, ''));
    rows.push(await measure(bench, 'no-op tasks', 'bench-backfill-noop', partitions, 32, '≥ 200 runs/s'));
    for (const concurrency of [1, 8, 32]) {
      rows.push(await measure(bench, 'tasks of 50 ms', 'bench-backfill-wait', perSlot * concurrency, concurrency, concurrency === 32 ? 'ratio ≥ 0.5' : ''));
    }
    rows.push(await measureRequests(bench));
    return { title: 'backfills on the local runtime: 3-task runs through the backfill state machine', rows };
  } finally {
    await runtime.stop();
    restore();
    rmSync(home, { recursive: true, force: true });
  }
}

/** One backfill of the next `count` partitions of `pipeline`, after a warm-up backfill at the same concurrency. */
async function measure({ runtime, servicesPid }: Bench, label: string, pipeline: string, count: number, concurrency: number, goal: string): Promise<Row> {
  const warmUp = await backfill(runtime, pipeline, Math.min(count, WARM_UP_RUNS_PER_SLOT * concurrency), concurrency);
  const before = readCpu(servicesPid);
  const { seconds } = await backfill(runtime, pipeline, count, concurrency);
  const after = readCpu(servicesPid);
  const rate = count / seconds;
  return {
    case: label,
    partitions: count,
    concurrency,
    seconds: Number(seconds.toFixed(1)),
    'runs/s': Number(rate.toFixed(1)),
    'achieved/ideal': pipeline === 'bench-backfill-wait' ? (rate / (concurrency / IDEAL_RUN_SECONDS)).toFixed(2) : '',
    'warm-up runs/s': Number((warmUp.count / warmUp.seconds).toFixed(1)),
    'CPU ms/run (main/sandboxes/other/services)': cpuPer(before, after, count),
    'peak RSS MB': Math.round(process.resourceUsage().maxRSS / 1024),
    goal,
  };
}

/** {@link REQUEST_RUNS} runs' DynamoDB requests alone, at concurrency 32, against the runtime's DynamoDB and table. */
async function measureRequests({ runtime, servicesPid }: Bench): Promise<Row> {
  const target = { endpoint: runtime.endpoints.dynamodb, tableName: runtime.pipeline('bench-backfill-noop').tableName };
  const props = { pipeline: 'bench-requests-only', count: REQUEST_RUNS, concurrency: 32 };
  const before = readCpu(servicesPid);
  const started = performance.now();
  await runRequests(target, props);
  const seconds = (performance.now() - started) / 1000;
  const after = readCpu(servicesPid);
  return {
    case: "a no-op run's 8 DynamoDB requests only",
    partitions: props.count,
    concurrency: props.concurrency,
    seconds: Number(seconds.toFixed(1)),
    'runs/s': Number((props.count / seconds).toFixed(1)),
    'achieved/ideal': '',
    'warm-up runs/s': '',
    'CPU ms/run (main/sandboxes/other/services)': cpuPer(before, after, props.count),
    'peak RSS MB': Math.round(process.resourceUsage().maxRSS / 1024),
    goal: '',
  };
}

/** The runtime measured, and its services process (DynamoDB, S3), whose CPU is counted too. */
interface Bench {
  readonly runtime: LocalRuntime;
  readonly servicesPid: number;
}

const used = new Map<string, number>();

/** A backfill of the next `count` partitions of `pipeline` (each backfill a fresh range), run to its end. */
async function backfill(runtime: LocalRuntime, pipeline: string, count: number, concurrency: number): Promise<{ count: number; seconds: number }> {
  const spec = runtime.pipeline(pipeline).config.partitions!;
  const offset = used.get(pipeline) ?? 0;
  const keys = listPartitions(spec, { now: new Date() }).slice(offset, offset + count);
  if (keys.length < count) throw new Error(`bench backfill of ${pipeline}: it has ${keys.length} partitions left, not ${count}: start its partitions earlier`);
  used.set(pipeline, offset + count);
  const request = resolveBackfillRequest({ from: keys[0], to: keys.at(-1), only: 'all', concurrency });
  const started = await startBackfill(runtime, pipeline, request);
  const execution = await runtime.engine.waitForExecution(started.executionArn);
  if (execution.status !== 'SUCCEEDED') throw new Error(`bench backfill of ${pipeline} ended ${execution.status}: ${execution.cause ?? ''}`);
  const record = await (await runtime.backfillStore(pipeline)).get(pipeline, started.backfillId);
  if (record?.succeeded !== count) throw new Error(`bench backfill of ${pipeline}: ${record?.succeeded} of ${count} partitions succeeded`);
  return { count, seconds: (Date.parse(execution.stopDate!) - Date.parse(execution.startDate)) / 1000 };
}
