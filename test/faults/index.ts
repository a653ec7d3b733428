/**
 * The fault-injection suite (`npm run test:faults`): exactly once per (partition, data version)
 * under duplicates, bursts, throttling, a killed process and hostile input, through the real
 * launcher and run-monitor bundles, dynalite, the local S3 and the local engine. Each scenario
 * prints its figures; the process exits 1 when an expectation fails. Kept out of `npm test`: it
 * runs tens of thousands of launches and takes minutes.
 *
 *   npm run test:faults                  # every scenario
 *   npm run test:faults -- burst kill    # some of them (duplicates, burst, throttling, kill, kill-backfill, hostile)
 *   FAULT_BURST=2000 npm run test:faults -- burst   # a smaller burst
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DateTime } from 'luxon';
import { shuffle, randomInt } from '../../bench/random-dags';
import { formatTable, seededRandom } from '../../bench/stats';
import { DEAD_LETTER_ATTRIBUTES, LAUNCHER_METRICS } from '../../lib/compile/contract';
import { captureFunctionOutput, processIo } from '../../local/cli/io';
import { LocalRuntime } from '../../local/runtime';
import { encodeEventKey, s3ClientFor } from '../../local/services';
import { readLauncherEnvironment } from '../../orchestration';
import { type FaultProxy, startFaultProxy } from './fault-proxy';

/** The example project: its stages are synthesized, the CLI runs in it. */
const projectDir = fileURLToPath(new URL('../../examples', import.meta.url));
const sluiceBin = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url));
const pipelinesDir = fileURLToPath(new URL('./fixtures/pipelines', import.meta.url));
const PIPELINE = 'fault-arrivals';
const SLOW = 'fault-slow';
const SEED = Number(process.env.FAULT_SEED ?? 10);
const BURST = Number(process.env.FAULT_BURST ?? 10_000);
/** The whole suite's bound: a scenario that hangs fails CI with its figures, never stalls it. */
const DEADLINE_MS = Number(process.env.FAULT_DEADLINE_MS ?? 30 * 60_000);

/** A row of the figures table. */
type Figure = Record<string, string | number>;
const figures: Figure[] = [];
/** The `sluice` processes the suite started, stopped when it ends early. */
const children = new Set<ChildProcess>();
const failures: string[] = [];

function check(scenario: string, what: string, actual: number | string, expected: number | string): void {
  const ok = actual === expected;
  figures.push({ scenario, figure: what, value: actual, expected, ok: ok ? 'yes' : 'NO' });
  if (!ok) failures.push(`${scenario}: ${what} was ${actual}, expected ${expected}`);
}

function measure(scenario: string, what: string, value: number | string): void {
  figures.push({ scenario, figure: what, value, expected: '', ok: '' });
}

/** The `index`-th hourly partition key from 2024-01-01T00 UTC. */
function hour(index: number): string {
  return DateTime.fromISO('2024-01-01T00:00:00Z', { zone: 'utc' }).plus({ hours: index }).toFormat("yyyy-MM-dd'T'HH");
}

/** An EventBridge `Object Created` event as S3 sends it (key URL-encoded). */
function objectCreated(bucket: string, key: string, etag: string, sequencer: string): Record<string, unknown> {
  return {
    version: '0',
    id: `${etag}-${sequencer}`,
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '000000000000',
    time: '2025-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0',
      bucket: { name: bucket },
      object: { key: encodeEventKey(key), size: 1, etag, sequencer },
      'request-id': 'FAULTS',
      requester: '000000000000',
      reason: 'PutObject',
    },
  };
}

interface Harness {
  readonly runtime: LocalRuntime;
  readonly home: string;
  readonly bucket: string;
  readonly dynamodb: FaultProxy;
  readonly stepFunctions: FaultProxy;
}

async function startHarness(): Promise<Harness> {
  const home = await mkdtemp(join(tmpdir(), 'sluice-faults-'));
  const random = seededRandom(SEED);
  const proxies: Partial<Record<'dynamodb' | 'stepfunctions', FaultProxy>> = {};
  const runtime = await LocalRuntime.start({
    projectDir,
    pipelinesDir,
    home,
    retryIntervalMs: 20,
    interpose: async (service, endpoint) => {
      const proxy =
        service === 'dynamodb'
          ? await startFaultProxy({
              target: endpoint,
              operations: ['UpdateItem', 'PutItem', 'DeleteItem'],
              errorType: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
              random,
            })
          : await startFaultProxy({ target: endpoint, operations: ['StartExecution'], errorType: 'ThrottlingException', random });
      proxies[service] = proxy;
      return proxy.endpoint;
    },
  });
  await runtime.startTriggers();
  const bucket = readLauncherEnvironment(runtime.pipeline(PIPELINE).launcher.environment).bucketNames.raw!;
  return { runtime, home, bucket, dynamodb: proxies.dynamodb!, stepFunctions: proxies.stepfunctions! };
}

/** Executions per partition of a pipeline, for the partitions in `keys`. */
function runsPerPartition(runtime: LocalRuntime, pipeline: string, keys: ReadonlySet<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const execution of runtime.runs(pipeline)) {
    const partition = (JSON.parse(execution.input) as { partition: string }).partition;
    if (keys.has(partition)) counts.set(partition, (counts.get(partition) ?? 0) + 1);
  }
  return counts;
}

async function deadLetters(h: Harness, pipeline: string): Promise<{ reason: string; body: string; attributes?: Record<string, string> }[]> {
  const queue = h.runtime.engine.stage.queues.find((q) => q.deadLetter && q.name.includes(pipeline))!;
  const dlq = h.runtime.engine.stage.queues.find((q) => q.arn === queue.deadLetter!.targetArn)!;
  const file = join(h.home, 'dead-letters', `${dlq.name}.jsonl`);
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { reason: string; body: string; attributes?: Record<string, string> });
}

const metric = (h: Harness, name: keyof typeof LAUNCHER_METRICS) => h.runtime.metrics.total(LAUNCHER_METRICS[name], PIPELINE);

/**
 * `count` distinct objects (hours `first`..), each delivered 1 to 5 times in random order: the
 * partitions run exactly once each.
 */
async function deliverDuplicates(h: Harness, scenario: string, first: number, count: number): Promise<void> {
  const random = seededRandom(SEED + first);
  const deliveries: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const event = objectCreated(h.bucket, `in/${hour(first + i)}/part-${i}.csv`, `etag-${i}`, (0x1000 + i).toString(16));
    for (let copy = randomInt(random, 1, 5); copy > 0; copy--) deliveries.push(event);
  }
  shuffle(random, deliveries);
  const before = { started: metric(h, 'runsStarted'), duplicates: metric(h, 'duplicates') };
  const lettersBefore = (await deadLetters(h, PIPELINE)).length;
  const started = Date.now();
  for (const event of deliveries) h.runtime.publishEvent(event);
  await h.runtime.settle();
  const keys = new Set(Array.from({ length: count }, (_, i) => hour(first + i)));
  const runs = runsPerPartition(h.runtime, PIPELINE, keys);
  const statuses = await h.runtime.partitions(PIPELINE, { from: hour(first), to: hour(first + count - 1), now: new Date() });
  measure(scenario, 'deliveries', deliveries.length);
  check(scenario, 'runs', [...runs.values()].reduce((a, b) => a + b, 0), count);
  check(scenario, 'partitions run more than once', [...runs.values()].filter((n) => n > 1).length, 0);
  check(scenario, 'partitions SUCCEEDED', statuses.filter((s) => s.status === 'SUCCEEDED').length, count);
  check(scenario, `${LAUNCHER_METRICS.runsStarted} (metric)`, metric(h, 'runsStarted') - before.started, count);
  check(scenario, `${LAUNCHER_METRICS.duplicates} (metric)`, metric(h, 'duplicates') - before.duplicates, deliveries.length - count);
  const letters = (await deadLetters(h, PIPELINE)).slice(lettersBefore);
  check(scenario, 'dead letters', letters.length, 0);
  if (letters.length > 0) failures.push(`${scenario}: first dead letter: ${letters[0]!.reason}`);
  measure(scenario, 'seconds', Math.round((Date.now() - started) / 100) / 10);
}

async function scenarioDuplicates(h: Harness): Promise<void> {
  await deliverDuplicates(h, 'duplicates', 0, 1_000);
}

async function scenarioThrottling(h: Harness): Promise<void> {
  h.dynamodb.rate = 0.1;
  h.stepFunctions.rate = 0.2;
  const injected = { dynamodb: h.dynamodb.injected, sfn: h.stepFunctions.injected };
  try {
    await deliverDuplicates(h, 'throttling', 1_000, 1_000);
  } finally {
    h.dynamodb.rate = 0;
    h.stepFunctions.rate = 0;
  }
  measure('throttling', 'DynamoDB writes throttled (10%)', h.dynamodb.injected - injected.dynamodb);
  measure('throttling', 'StartExecution calls throttled (20%)', h.stepFunctions.injected - injected.sfn);
}

/** `BURST` PutObjects to the local S3 endpoint at once, one partition each. */
async function scenarioBurst(h: Harness): Promise<void> {
  const first = 2_000;
  const s3 = h.runtime.s3.client();
  const keys = new Set(Array.from({ length: BURST }, (_, i) => hour(first + i)));
  const lettersBefore = (await deadLetters(h, PIPELINE)).length;
  const started = Date.now();
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
  let next = 0;
  // Many uploads in flight at once: the burst is limited by the sockets, not by awaiting each.
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < BURST) {
        const i = next++;
        await s3.send(new PutObjectCommand({ Bucket: h.bucket, Key: `in/${hour(first + i)}/burst.csv`, Body: `${i}\n` }));
      }
    }),
  );
  const uploaded = Date.now();
  // S3 delivers its events asynchronously: wait until every partition ran, or nothing moves for 60 s.
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    await h.runtime.settle();
    const done = [...runsPerPartition(h.runtime, PIPELINE, keys).values()].reduce((a, b) => a + b, 0);
    if (done >= BURST) break;
    if (done !== last) {
      last = done;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 60_000) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await h.runtime.settle();
  clearInterval(sampler);
  const runs = runsPerPartition(h.runtime, PIPELINE, keys);
  measure('burst', 'PutObjects', BURST);
  check('burst', 'partitions run', runs.size, BURST);
  check('burst', 'partitions run more than once', [...runs.values()].filter((n) => n > 1).length, 0);
  check('burst', 'dead letters', (await deadLetters(h, PIPELINE)).length - lettersBefore, 0);
  measure('burst', 'seconds to upload', Math.round((uploaded - started) / 100) / 10);
  measure('burst', 'seconds until every run ended', Math.round((Date.now() - started) / 100) / 10);
  measure('burst', 'peak RSS of the runtime process (MB)', Math.round(peakRss / 1_048_576));
}

/** Hostile keys (each due one run) and malformed messages (each due the dead-letter queue). */
async function scenarioHostile(h: Harness): Promise<void> {
  const first = 13_000;
  const hostile: [string, string][] = [
    ['space (encoded +)', `in/${hour(first)}/a b.csv`],
    ['plus (encoded %2B)', `in/${hour(first + 1)}/a+b.csv`],
    ['literal %2F', `in/${hour(first + 2)}/a%2Fb.csv`],
    ['unicode', `in/${hour(first + 3)}/données-東京-🙂.csv`],
    ['1,024-byte key', `in/${hour(first + 4)}/${'k'.repeat(1024 - `in/${hour(first + 4)}/`.length - 4)}.csv`],
    ['newline', `in/${hour(first + 5)}/a\nb.csv`],
  ];
  const queue = h.runtime.engine.stage.queues.find((q) => q.deadLetter && q.name.includes(PIPELINE))!;
  const lettersBefore = (await deadLetters(h, PIPELINE)).length;
  const before = { malformed: metric(h, 'malformed'), invalid: metric(h, 'invalid'), ignored: metric(h, 'ignored') };
  hostile.forEach(([, key], i) => h.runtime.publishEvent(objectCreated(h.bucket, key, `hostile-${i}`, '01')));
  // Delivered twice each: still one run.
  hostile.forEach(([, key], i) => h.runtime.publishEvent(objectCreated(h.bucket, key, `hostile-${i}`, '01')));
  h.runtime.publishEvent(objectCreated(h.bucket, 'in/2024-13-45T00/impossible-hour.csv', 'x', '01'));
  h.runtime.publishEvent(objectCreated(h.bucket, 'in/no-partition.csv', 'x', '01'));
  const valid = objectCreated(h.bucket, `in/${hour(first + 9)}/x.csv`, 'x', '01');
  const withoutKey = structuredClone(valid) as { detail: { object: Record<string, unknown> } };
  delete withoutKey.detail.object.key;
  const withoutEtag = structuredClone(valid) as { detail: { object: Record<string, unknown> } };
  delete withoutEtag.detail.object.etag;
  const badEncoding = objectCreated(h.bucket, 'x', 'x', '01') as { detail: { object: Record<string, unknown> } };
  badEncoding.detail.object.key = `in/${hour(first + 9)}/%E0%A4%A.csv`;
  const malformed: [string, string][] = [
    ['non-JSON body', 'this is not JSON'],
    ['JSON, not an event', '{"hello":"world"}'],
    ['event without key', JSON.stringify(withoutKey)],
    ['event without ETag', JSON.stringify(withoutEtag)],
    ['key not valid URL encoding', JSON.stringify(badEncoding)],
    ['empty body', ''],
  ];
  for (const [, body] of malformed) h.runtime.sendMessage(queue.arn, body);
  await h.runtime.settle();

  const keys = new Set(hostile.map(([, key]) => /^in\/([^/]+)\//.exec(key)![1]!));
  const runs = runsPerPartition(h.runtime, PIPELINE, keys);
  for (const [label, key] of hostile) {
    const partition = /^in\/([^/]+)\//.exec(key)![1]!;
    check('hostile', `key with ${label}: runs`, runs.get(partition) ?? 0, 1);
  }
  const letters = (await deadLetters(h, PIPELINE)).slice(lettersBefore);
  const bodies = letters.map((l) => l.body);
  for (const [label, body] of malformed) check('hostile', `${label}: in the dead-letter queue`, bodies.filter((b) => b === body).length, 1);
  check('hostile', 'impossible partition (hour 2024-13-45T00): in the dead-letter queue', bodies.filter((b) => b.includes('impossible-hour')).length, 1);
  check('hostile', 'dead letters', letters.length, malformed.length + 1);
  const unexpected = letters.filter((l) => !malformed.some(([, body]) => body === l.body) && !l.body.includes('impossible-hour'));
  if (unexpected.length > 0) failures.push(`hostile: first unexpected dead letter: ${unexpected[0]!.reason}`);
  // The launcher moves each to the dead-letter queue at once, with the reason, and counts it once;
  // an empty body (which SQS itself never holds) cannot be sent there and is redriven after 3 receives.
  const withReason = letters.filter((l) => l.attributes?.[DEAD_LETTER_ATTRIBUTES.reason]);
  check('hostile', 'dead letters moved by the launcher, with the reason', withReason.length, malformed.length);
  check('hostile', `${LAUNCHER_METRICS.malformed} (metric)`, metric(h, 'malformed') - before.malformed, malformed.length - 1 + 3);
  check('hostile', `${LAUNCHER_METRICS.invalid} (metric)`, metric(h, 'invalid') - before.invalid, 1);
  check('hostile', `${LAUNCHER_METRICS.ignored} (metric): key outside partitionFromKey`, metric(h, 'ignored') - before.ignored, 1);
}

/**
 * `sluice dev` killed with SIGKILL while runs are in progress, then started again: no partition
 * is left RUNNING, and no partition that had completed runs again.
 */
async function scenarioKill(): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'sluice-faults-kill-'));
  const env = { ...process.env, SLUICE_HOME: home, SLUICE_PIPELINES: pipelinesDir, SLUICE_RETRY_INTERVAL_MS: '20', NO_COLOR: '1' };
  const count = 60;
  try {
    const first = await startDev(env);
    const s3 = s3ClientFor(first.ready.endpoints.s3);
    const bucket = first.ready.buckets.find((b) => b.logical === 'raw')!.name;
    await Promise.all(
      Array.from({ length: count }, (_, i) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: `slow/${hour(i)}/x.csv`, Body: `${i}` }))),
    );
    // Kill as soon as some runs have completed, while others are in progress.
    const ended = (status: string) => (e: Record<string, unknown>) => e.event === 'run' && e.pipeline === SLOW && e.status === status;
    await first.until((events) => events.filter(ended('SUCCEEDED')).length >= 5);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    s3.destroy();
    const seen = first.events();
    const succeededBefore = new Set(seen.filter(ended('SUCCEEDED')).map((e) => String(e.partition)));
    const endedBefore = new Set(seen.filter((e) => e.event === 'run' && e.status !== 'RUNNING').map((e) => String(e.partition)));
    const runningAtKill = new Set(seen.filter(ended('RUNNING')).map((e) => String(e.partition)).filter((p) => !endedBefore.has(p)));

    const second = await startDev(env);
    const after = await sluiceJson<StatusJson>(['status', SLOW, '--from', hour(0), '--to', hour(count - 1), '--json'], env);
    second.child.kill('SIGTERM');
    await new Promise((resolve) => second.child.once('exit', resolve));

    measure('kill -9', 'objects uploaded', count);
    measure('kill -9', 'partitions SUCCEEDED before the kill', succeededBefore.size);
    measure('kill -9', 'partitions RUNNING at the kill', runningAtKill.size);
    check('kill -9', 'partitions RUNNING after the restart', after.partitions.filter((p) => p.status === 'RUNNING').length, 0);
    const rerun = after.partitions.filter((p) => succeededBefore.has(p.partition) && (p.status !== 'SUCCEEDED' || p.runNumber !== 1));
    check('kill -9', 'completed partitions run again', rerun.length, 0);
    measure('kill -9', 'partitions FAILED after the restart (aborted by the kill)', after.partitions.filter((p) => p.status === 'FAILED').length);
    measure('kill -9', 'partitions never run (events lost with the process)', after.partitions.filter((p) => p.status === 'MISSING').length);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/**
 * `sluice backfill` killed with SIGKILL while its runs are in progress, then the backfill asked
 * again: the interrupted backfill ends ABORTED, no partition is left RUNNING, the partitions that
 * had completed are not run again, and the second backfill completes the range.
 */
async function scenarioKillBackfill(): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'sluice-faults-kill-backfill-'));
  const env = { ...process.env, SLUICE_HOME: home, SLUICE_PIPELINES: pipelinesDir, SLUICE_RETRY_INTERVAL_MS: '20', NO_COLOR: '1' };
  const count = 40;
  const range = ['--from', hour(0), '--to', hour(count - 1)];
  const scenario = 'kill -9 backfill';
  try {
    const child = spawn(process.execPath, [sluiceBin, 'backfill', SLOW, ...range, '--concurrency', '8', '--json'], { cwd: projectDir, env, stdio: 'ignore' });
    children.add(child);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // Kill once some runs have completed, while others are in progress (each run takes 5 s).
    const records = join(home, 'executions', `local-${SLOW}`);
    const succeeded = async () => {
      if (!existsSync(records)) return 0;
      const names = await readdir(records);
      const texts = await Promise.all(names.map((name) => readFile(join(records, name), 'utf8').catch(() => '')));
      return texts.filter((text) => text.includes('"status":"SUCCEEDED"')).length;
    };
    const deadline = Date.now() + 180_000;
    while ((await succeeded()) < 8) {
      if (Date.now() > deadline) throw new Error('sluice backfill: no 8 runs succeeded within 3 minutes');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    child.kill('SIGKILL');
    await exited;

    const before = await sluiceJson<StatusJson>(['status', SLOW, ...range, '--json'], env);
    const succeededBefore = new Set(before.partitions.filter((p) => p.status === 'SUCCEEDED').map((p) => p.partition));
    const { backfills } = await sluiceJson<{ backfills: { status: string }[] }>(['backfills', SLOW, '--json'], env);
    const again = await sluiceJson<{ status: string; runs: number }>(['backfill', SLOW, ...range, '--concurrency', '8', '--json'], env);
    const after = await sluiceJson<StatusJson>(['status', SLOW, ...range, '--json'], env);

    measure(scenario, 'partitions in the range', count);
    measure(scenario, 'partitions SUCCEEDED before the kill', succeededBefore.size);
    check(scenario, 'interrupted backfill', backfills.at(-1)?.status ?? 'none', 'ABORTED');
    check(scenario, 'partitions RUNNING after the kill', before.partitions.filter((p) => p.status === 'RUNNING').length, 0);
    check(scenario, 'second backfill', again.status, 'SUCCEEDED');
    check(scenario, 'runs of the second backfill', again.runs, count - succeededBefore.size);
    check(scenario, 'partitions SUCCEEDED after the second backfill', after.partitions.filter((p) => p.status === 'SUCCEEDED').length, count);
    const rerun = after.partitions.filter((p) => succeededBefore.has(p.partition) && p.runNumber !== 1);
    check(scenario, 'completed partitions run again', rerun.length, 0);
  } finally {
    if (!process.env.FAULT_KEEP) await rm(home, { recursive: true, force: true });
  }
}

interface StatusJson {
  readonly partitions: { partition: string; status: string; runNumber?: number }[];
}

interface DevReady {
  readonly endpoints: { s3: string; dynamodb: string };
  readonly buckets: { name: string; logical?: string }[];
}

/** Starts `sluice dev --json` and waits for its `ready` line. */
async function startDev(env: NodeJS.ProcessEnv): Promise<{
  child: ChildProcess;
  ready: DevReady;
  events: () => Record<string, unknown>[];
  until: (done: (events: Record<string, unknown>[]) => boolean) => Promise<void>;
}> {
  const child = spawn(process.execPath, [sluiceBin, 'dev', '--json'], { cwd: projectDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const events: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      return;
    }
    for (const waiter of waiters) waiter();
  });
  const until = (done: (events: Record<string, unknown>[]) => boolean) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sluice dev: timed out; stderr: ${stderr.slice(-2000)}`)), 180_000);
      const look = () => {
        if (!done(events)) return;
        clearTimeout(timer);
        waiters.delete(look);
        resolve();
      };
      waiters.add(look);
      child.once('exit', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`sluice dev exited with ${code ?? signal}; stderr: ${stderr.slice(-2000)}`));
      });
      look();
    });
  await until((e) => e.some((x) => x.event === 'ready'));
  const ready = events.find((e) => e.event === 'ready') as unknown as DevReady;
  return { child, ready, until, events: () => [...events] };
}

async function sluiceJson<T>(args: readonly string[], env: NodeJS.ProcessEnv): Promise<T> {
  const child = spawn(process.execPath, [sluiceBin, ...args], { cwd: projectDir, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`sluice ${args.join(' ')} exited with ${code}: ${stderr}`);
  return JSON.parse(stdout) as T;
}

const SCENARIOS = ['duplicates', 'throttling', 'burst', 'hostile', 'kill', 'kill-backfill'] as const;

async function main(): Promise<void> {
  const chosen = process.argv.slice(2).filter((a) => a !== '--');
  const unknown = chosen.filter((c) => !(SCENARIOS as readonly string[]).includes(c));
  if (unknown.length > 0) {
    processIo().err(`Unknown scenario(s) ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}\n`);
    process.exit(2);
  }
  const run = (name: (typeof SCENARIOS)[number]) => chosen.length === 0 || chosen.includes(name);
  const started = Date.now();
  setTimeout(() => {
    failures.push(`the suite did not end within ${Math.round(DEADLINE_MS / 1000)} s (FAULT_DEADLINE_MS)`);
    report(started);
  }, DEADLINE_MS).unref();
  // The functions run in this process: their logs and metrics go to a file, as the CLI's do.
  const functionLog = join(tmpdir(), `sluice-faults-functions-${process.pid}.log`);
  captureFunctionOutput({ logFile: functionLog, verbose: false });
  const io = processIo();
  io.err(`Fault suite: functions' output in ${functionLog}\n`);
  if (run('duplicates') || run('throttling') || run('burst') || run('hostile')) {
    const h = await startHarness();
    try {
      if (run('duplicates')) await scenarioDuplicates(h);
      if (run('throttling')) await scenarioThrottling(h);
      if (run('hostile')) await scenarioHostile(h);
      if (run('burst')) await scenarioBurst(h);
    } finally {
      await h.runtime.stop();
      await Promise.all([h.dynamodb.stop(), h.stepFunctions.stop()]);
      await rm(h.home, { recursive: true, force: true });
    }
  }
  if (run('kill')) await scenarioKill();
  if (run('kill-backfill')) await scenarioKillBackfill();
  report(started);
}

/** Prints the figures so far and exits: 1 when an expectation failed. */
function report(started: number): never {
  for (const child of children) child.kill('SIGKILL');
  const io = processIo();
  io.out(`\nFault suite (seed ${SEED}), ${Math.round((Date.now() - started) / 1000)} s\n\n${formatTable(figures)}\n`);
  if (failures.length > 0) {
    io.out(`\n${failures.length} expectation(s) failed:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
    process.exit(1);
  }
  io.out('\nEvery expectation held.\n');
  process.exit(0);
}

await main();
