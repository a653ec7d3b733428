import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { UNPARTITIONED_KEY } from '../lib/compile/model';
import type { ExecutionRecord } from '../local/engine';
import { LocalRuntime } from '../local/runtime';
import { quantile, type BenchResult } from './stats';

const PROJECT_DIR = fileURLToPath(new URL('../examples/', import.meta.url));
// Inside the project: NodejsFunction bundles only entries under the project root.
const PIPELINES_DIR = fileURLToPath(new URL('./fixtures/pipelines/', import.meta.url));
const SCRATCH_DIR = fileURLToPath(new URL('../.sluice/', import.meta.url));
const CLI = fileURLToPath(new URL('../bin/sluice.js', import.meta.url));
/** The CLI as installed from the package: built JavaScript (bin/sluice.js runs it where no sources are). */
const BUILT_CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const DIST_DIR = fileURLToPath(new URL('../dist/', import.meta.url));
const RSS_PROBE = new URL('./fixtures/peak-rss.mjs', import.meta.url).href;

/** The fixture pipelines: 20 no-op tasks each, in a chain and in one Parallel. */
const FIXTURES = ['bench-chain', 'bench-fanout'] as const;
const TASKS_PER_RUN = 20;
/** The fixtures' task names (`t00`…`t19`): every other Task state is the runtime's own. */
const USER_TASK = /^t\d{2}$/;
/** Runs of each side discarded before measuring: module loading, JIT, connection set-up. */
const WARM_UP = 10;

interface Row extends Record<string, string | number> {
  readonly measure: string;
  readonly case: string;
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly unit: string;
  readonly goal: string;
}

/**
 * The embedded runtime's costs, measured in one process so the figures are comparable:
 * (a) per-task overhead of `LocalRuntime` against the bare aws-local-stepfunctions interpreter
 * running the same definition object with the same handler bundles, K interleaved runs of each;
 * (b) time from `sluice run` to the first task's start, cold (empty `SLUICE_HOME`: synth) and warm;
 * (c) peak RSS of that CLI process. `RUNS` (K, default 200) and `STARTS` (default 3) set the sizes.
 */
export async function run(): Promise<BenchResult> {
  const runs = Number(process.env.RUNS ?? 200);
  const starts = Number(process.env.STARTS ?? 3);
  mkdirSync(SCRATCH_DIR, { recursive: true });
  const scratch = mkdtempSync(join(SCRATCH_DIR, 'bench-local-'));
  try {
    const overhead = await measureOverhead(join(scratch, 'runtime'), runs);
    const startRows = await measureStarts(scratch, starts);
    return {
      title: `local runtime: per-task overhead (${TASKS_PER_RUN} no-op tasks, ${runs} interleaved runs), start time and peak RSS of \`sluice run\``,
      rows: [...overhead, ...startRows],
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** (a): both sides in this process, interleaved, on each fixture. */
async function measureOverhead(home: string, runs: number): Promise<Row[]> {
  const runtime = await LocalRuntime.start({ projectDir: PROJECT_DIR, pipelinesDir: PIPELINES_DIR, home });
  try {
    const rows: Row[] = [];
    for (const name of FIXTURES) rows.push(...(await compare(runtime, name, runs)));
    return rows;
  } finally {
    await runtime.stop();
  }
}

/**
 * The local side is `LocalRuntime.run`: the launcher bundle claims the partition in dynalite and
 * starts the execution; the engine persists the execution record, serves each Task through the
 * Lambda adapter (per-function module, environment isolation, context, timeout race, JSON copies
 * of payloads, the `lambda:invoke` envelope, payload-size checks), writes partition status to
 * dynalite over HTTP, follows the event log, and persists the record again. Its execution time
 * runs from the RUNNING status change to the final one, read with `performance.now()`.
 *
 * The bare side runs the very definition object the engine runs on a `StateMachine` of its own,
 * with the same input, the same context fields, and each Lambda Task calling the handler of the
 * same bundle in `cdk.out` directly (wrapped only in `{ Payload }`); DynamoDB Tasks return `{}`.
 * A third side is the bare one with its DynamoDB Tasks sent to the runtime's dynalite by an SDK
 * client, as the engine does: against it, the ratio is the adapter's alone.
 */
async function compare(runtime: LocalRuntime, name: string, runs: number): Promise<Row[]> {
  const pipeline = runtime.pipeline(name);
  const definition = pipeline.stateMachine.definition;
  const bare = new StateMachine(definition as unknown as StateMachineDefinition);
  const dynamodb = new DynamoDBClient({
    endpoint: runtime.endpoints.dynamodb,
    region: runtime.engine.stage.environment.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const noWrites = await bareHandlers(runtime, definition, async () => ({}));
  const withWrites = await bareHandlers(runtime, definition, async (action, input) => {
    try {
      const { $metadata, ...output } = await dynamodb.send(DYNAMODB_COMMANDS[action](input as never) as UpdateItemCommand);
      return output;
    } catch (error) {
      // The bare side's own item was never claimed, so the writes conditioned on the claim are
      // refused: the round trip, which is what is measured, is made all the same.
      if ((error as Error).name === 'ConditionalCheckFailedException') return {};
      throw error;
    }
  });

  const entered = new Map<string, number>();
  const ended = new Map<string, number>();
  const unsubscribe = runtime.engine.onStatusChange((event) => {
    (event.detail.status === 'RUNNING' ? entered : ended).set(event.detail.executionArn, performance.now());
  });
  let input: unknown;
  const local = async (): Promise<{ execution: number; run: number }> => {
    const started = performance.now();
    const { execution } = await runtime.run(name, UNPARTITIONED_KEY);
    const run = performance.now() - started;
    if (execution?.status !== 'SUCCEEDED') throw new Error(`bench run of ${name} ended ${execution?.status ?? 'without an execution'}: ${execution?.cause ?? ''}`);
    // The bare sides write status to an item of their own, or they would rewind the claimed run.
    input ??= { ...(JSON.parse(execution.input) as object), partition: 'bench-bare' };
    return { execution: ended.get(execution.executionArn)! - entered.get(execution.executionArn)!, run };
  };
  const baseline = async (handlers: TaskHandlers): Promise<number> => {
    const started = performance.now();
    await bare.run(input as never, { overrides: { taskResourceLocalHandlers: handlers }, context: bareContext(pipeline.stateMachine) }).result;
    return performance.now() - started;
  };

  try {
    const localMs: number[] = [];
    const runMs: number[] = [];
    const bareMs: number[] = [];
    const bareWritesMs: number[] = [];
    const sides = [
      async (measured: boolean) => {
        const { execution, run } = await local();
        if (!measured) return;
        localMs.push(execution);
        runMs.push(run);
      },
      async (measured: boolean) => {
        const ms = await baseline(noWrites);
        if (measured) bareMs.push(ms);
      },
      async (measured: boolean) => {
        const ms = await baseline(withWrites);
        if (measured) bareWritesMs.push(ms);
      },
    ];
    // The sides take turns, and which goes first rotates: that cancels drift on a shared machine
    // and what one run leaves to the next (garbage to collect).
    for (let i = 0; i < WARM_UP + runs; i++) {
      for (let s = 0; s < sides.length; s++) await sides[(i + s) % sides.length]!(i >= WARM_UP);
    }
    const perTask = (values: readonly number[]) => values.map((v) => v / TASKS_PER_RUN);
    return [
      row('overhead', `${name}: local execution per task`, perTask(localMs), 'ms'),
      row('overhead', `${name}: bare interpreter per task`, perTask(bareMs), 'ms'),
      row('overhead', `${name}: ratio local / bare`, localMs.map((v, i) => v / bareMs[i]!), 'x', '≤ 1.5'),
      row('overhead', `${name}: added per task`, localMs.map((v, i) => (v - bareMs[i]!) / TASKS_PER_RUN), 'ms'),
      row('overhead', `${name}: bare + dynalite writes per task`, perTask(bareWritesMs), 'ms'),
      row('overhead', `${name}: ratio local / (bare + dynalite)`, localMs.map((v, i) => v / bareWritesMs[i]!), 'x'),
      row('overhead', `${name}: run() with launcher per task`, perTask(runMs), 'ms'),
    ];
  } finally {
    unsubscribe();
    dynamodb.destroy();
  }
}

type TaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type DynamoAction = keyof typeof DYNAMODB_COMMANDS;

const DYNAMODB_COMMANDS = {
  putItem: (input: never) => new PutItemCommand(input),
  getItem: (input: never) => new GetItemCommand(input),
  updateItem: (input: never) => new UpdateItemCommand(input),
  deleteItem: (input: never) => new DeleteItemCommand(input),
};

/** A handler per Task state: Lambda Tasks call the bundle's handler, DynamoDB Tasks `dynamodb`. */
async function bareHandlers(
  runtime: LocalRuntime,
  definition: Record<string, unknown>,
  dynamodb: (action: DynamoAction, input: unknown) => Promise<unknown>,
): Promise<TaskHandlers> {
  const handlers: TaskHandlers = {};
  const visit = async (machine: Record<string, unknown>): Promise<void> => {
    for (const [state, body] of Object.entries(machine.States as Record<string, Record<string, unknown>>)) {
      for (const branch of (body.Branches ?? []) as Record<string, unknown>[]) await visit(branch);
      if (body.Type !== 'Task') continue;
      const resource = String(body.Resource);
      const action = /^arn:aws:states:::dynamodb:(\w+)$/.exec(resource)?.[1];
      if (action && action in DYNAMODB_COMMANDS) {
        handlers[state] = (input) => dynamodb(action as DynamoAction, input) as Promise<never>;
        continue;
      }
      if (resource !== 'arn:aws:states:::lambda:invoke') throw new Error(`State ${state}: resource ${resource} has no bare handler`);
      const functionName = String((body.Parameters as { FunctionName: string }).FunctionName);
      const fn = runtime.engine.stage.findFunction(functionName);
      if (!fn) throw new Error(`No function ${functionName} in the local stage`);
      const bundle = (await import(pathToFileURL(fn.handlerFile).href)) as Record<string, (event: unknown) => Promise<unknown>>;
      const handler = bundle[fn.handlerExport]!;
      handlers[state] = async (input) => ({ Payload: await handler((input as { Payload: unknown }).Payload), StatusCode: 200 }) as never;
    }
  };
  await visit(definition);
  return handlers;
}

/** The context fields the engine supplies (the definitions read `Execution.Id` and `State.EnteredTime`). */
function bareContext(stateMachine: { arn: string; name: string }): RunOptions['context'] {
  const name = crypto.randomUUID();
  return {
    Execution: { Id: `${stateMachine.arn.replace(':stateMachine:', ':execution:')}:${name}`, Name: name, StartTime: new Date().toISOString(), RoleArn: '', RedriveCount: 0 },
    StateMachine: { Id: stateMachine.arn, Name: stateMachine.name },
    State: {
      get EnteredTime() {
        return new Date().toISOString();
      },
      // Every try of the bench's tasks is a first one, as in the engine's runs.
      RetryCount: 0,
    },
  };
}

interface CliRun {
  /** Spawn to the first task's start, from the execution record's first attempt. */
  readonly firstTaskSeconds: number;
  /** Spawn to exit. */
  readonly exitSeconds: number;
  /** Peak RSS of the CLI process itself (the CLI runs in one Node.js process; esbuild's, at synth, is not counted). */
  readonly peakRssMb: number;
}

/**
 * (b) and (c): `sluice run bench-chain`, as a user runs it, each repetition in a fresh
 * `SLUICE_HOME` (cold: the stage is synthesized) and then twice more in the same one (warm); from
 * the TypeScript sources (bin/sluice.js in this checkout, through tsx) and from the package's
 * build (dist/cli.js, what an installed package runs; built here first), with the build's size.
 */
async function measureStarts(scratch: string, repetitions: number): Promise<Row[]> {
  if (!existsSync(CLI)) throw new Error(`The CLI ${CLI} does not exist: build it before running this bench`);
  execFileSync(process.execPath, [fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url)), 'scripts/build.ts'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'ignore' });
  const rows: Row[] = [];
  for (const [variant, cli] of [['sources', CLI], ['built', BUILT_CLI]] as const) {
    const cold: CliRun[] = [];
    const warm: CliRun[] = [];
    for (let i = 0; i < repetitions; i++) {
      const home = join(scratch, `cli-${variant}-${i}`);
      cold.push(await runCli(home, cli));
      warm.push(await runCli(home, cli), await runCli(home, cli));
      rmSync(home, { recursive: true, force: true });
    }
    const figures = (label: string, samples: readonly CliRun[], goal: string): Row[] => [
      row('start', `${variant}, ${label}: command → first task`, samples.map((s) => s.firstTaskSeconds), 's', goal),
      row('start', `${variant}, ${label}: command → exit`, samples.map((s) => s.exitSeconds), 's'),
      row('memory', `${variant}, ${label}: peak RSS of the CLI`, samples.map((s) => s.peakRssMb), 'MB'),
    ];
    rows.push(...figures('cold (synth)', cold, ''), ...figures('warm (cached)', warm, variant === 'built' ? '< 0.4 s' : '< 2 s'));
  }
  const sizes = ['js', 'ts'].map((ext) => filesSize(DIST_DIR, ext) / 1024 / 1024);
  rows.push(row('size', 'dist/: JavaScript', [sizes[0]!], 'MB'), row('size', 'dist/: type declarations', [sizes[1]!], 'MB'));
  return rows;
}

function filesSize(dir: string, extension: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(`.${extension}`))
    .reduce((sum, entry) => sum + statSync(join(entry.parentPath, entry.name)).size, 0);
}

async function runCli(home: string, cli: string): Promise<CliRun> {
  mkdirSync(home, { recursive: true });
  const rssFile = `${home}.rss.jsonl`;
  rmSync(rssFile, { force: true });
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_HOME: home, SLUICE_PIPELINES: PIPELINES_DIR, SLUICE_BENCH_RSS_FILE: rssFile };
  // As a user's shell starts it: no loader options inherited from this tsx process.
  delete env.NODE_OPTIONS;
  const spawnedAt = Date.now();
  const started = performance.now();
  const { pid, code, output } = await new Promise<{ pid: number; code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', RSS_PROBE, cli, 'run', 'bench-chain'], { cwd: PROJECT_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ pid: child.pid!, code, output }));
  });
  const exitSeconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`sluice run exited with ${code}:\n${output.slice(-3000)}`);

  const record = newestRecord(join(home, 'executions'));
  const firstTask = Math.min(...record.attempts.filter((a) => USER_TASK.test(a.state)).map((a) => Date.parse(a.startDate)));
  if (!Number.isFinite(firstTask) || Date.parse(record.startDate) < spawnedAt) {
    throw new Error(`No task of this run in the execution records under ${home}`);
  }
  const reports = readFileSync(rssFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { pid: number; maxRssKb: number });
  const own = reports.find((r) => r.pid === pid);
  if (!own) throw new Error(`The CLI process reported no peak RSS (${rssFile})`);
  return { firstTaskSeconds: (firstTask - spawnedAt) / 1000, exitSeconds, peakRssMb: own.maxRssKb / 1024 };
}

/** The latest execution record under `executions/<stateMachine>/<name>.json`. */
function newestRecord(dir: string): ExecutionRecord {
  const records = readdirSync(dir).flatMap((machine) =>
    readdirSync(join(dir, machine))
      .filter((file) => file.endsWith('.json'))
      .map((file) => JSON.parse(readFileSync(join(dir, machine, file), 'utf8')) as ExecutionRecord),
  );
  const newest = records.sort((a, b) => b.startDate.localeCompare(a.startDate))[0];
  if (!newest) throw new Error(`No execution record under ${dir}`);
  return newest;
}

function row(measure: string, label: string, values: readonly number[], unit: string, goal = ''): Row {
  const round = (x: number) => Number(x.toFixed(unit === 'MB' ? (measure === 'size' ? 2 : 0) : 3));
  return { measure, case: label, n: values.length, p50: round(quantile(values, 0.5)), p95: round(quantile(values, 0.95)), unit, goal };
}
