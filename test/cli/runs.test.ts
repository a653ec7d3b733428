import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartitionStore } from '../../orchestration';
import { type CliResult, cliEnv, json, sluice, spawnSluice } from './sluice';

interface RunJson {
  status: string;
  partition: string;
  runId: string;
  error?: string;
  errorMessage?: string;
  attempts: { task: string; attempt: number; status: string; error?: string; errorMessage?: string }[];
}
interface StatusJson {
  partitions: { partition: string; status: string; runId?: string; trigger?: string; error?: string; errorMessage?: string }[];
}
interface RunsJson {
  runs: { runId: string; partition: string; trigger: string; status: string }[];
}

/** A `sluice dev` in the background, with what it printed. */
interface DevProcess {
  readonly pid: number;
  readonly s3: string;
  readonly dynamodb: string;
  readonly accessKey: string;
  readonly rawBucket: string;
  output(): string;
  stop(): Promise<number | null>;
}

async function startDev(env: NodeJS.ProcessEnv): Promise<DevProcess> {
  const child = spawnSluice(['dev'], env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (stdout.includes('Ready.')) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`sluice dev exited with ${code} before it was ready:\n${stdout}\n${stderr}`));
    });
  });
  const find = (pattern: RegExp) => {
    const match = pattern.exec(stdout);
    if (!match) throw new Error(`sluice dev did not print ${pattern}:\n${stdout}`);
    return match[1]!;
  };
  return {
    pid: child.pid!,
    s3: find(/^S3\s+(http:\/\/\S+)/m),
    dynamodb: find(/^DynamoDB\s+(http:\/\/\S+)/m),
    accessKey: find(/access key (\S+),/),
    rawBucket: find(/^(\S+)\s+raw$/m),
    output: () => stdout,
    stop: async () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

/** The pid of a process that has exited: what a `sluice dev` killed without cleanup leaves behind. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

async function pollStatus(env: NodeJS.ProcessEnv, pipeline: string, partition: string, until: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await sluice(['status', pipeline, '--from', partition, '--to', partition, '--json'], env);
    const found = json<StatusJson>(result).partitions.find((p) => p.partition === partition);
    if (found?.status === until || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A client of the dev process's S3, configured as the endpoint requires (see local/services/s3.ts). */
function localS3Client(dev: DevProcess): S3Client {
  return new S3Client({
    endpoint: dev.s3,
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: dev.accessKey, secretAccessKey: dev.accessKey },
  });
}

/**
 * The CLI end to end, as a user runs it: one SLUICE_HOME for the file (the synthesized assembly
 * is cached there), a `sluice dev` in the background, and every other command attached to it.
 */
describe('sluice run, status, runs and dev', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let dev: DevProcess;
  let stalePid: number;
  let beforeDev: CliResult;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-cli-runs-'));
    env = cliEnv(home);
    stalePid = await deadPid();
    await writeFile(
      join(home, 'dev.json'),
      JSON.stringify({ pid: stalePid, endpoints: { s3: 'http://127.0.0.1:9', dynamodb: 'http://127.0.0.1:9' }, s3ClientEnvironment: {} }),
    );
    // Synthesizes the fixtures (the slow part) with a stale dev.json in the way.
    beforeDev = await sluice(['status', 'orders', '--json'], env);
    dev = await startDev(env);
  });

  afterAll(async () => {
    const code = await dev?.stop();
    const announced = existsSync(join(home, 'dev.json'));
    await rm(home, { recursive: true, force: true });
    expect(code).toBe(0);
    expect(announced).toBe(false);
  });

  it('ignores a stale dev.json, and sluice dev replaces it with its own', () => {
    // Then
    expect(beforeDev.code).toBe(0);
    expect(beforeDev.stderr).not.toContain('Using the DynamoDB and S3 of sluice dev');
    expect(json<StatusJson>(beforeDev).partitions).toHaveLength(10);
    const announced = JSON.parse(readFileSync(join(home, 'dev.json'), 'utf8')) as { pid: number; endpoints: { s3: string; dynamodb: string } };
    expect(announced).toMatchObject({ pid: dev.pid, endpoints: { s3: dev.s3, dynamodb: dev.dynamodb } });
  });

  it('runs a pipeline to success: exit 0 and its partition SUCCEEDED in DynamoDB', async () => {
    // When
    const result = await sluice(['run', 'orders', '--partition', '2024-01-05', '--json'], env);

    // Then
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`Using the DynamoDB and S3 of sluice dev (pid ${dev.pid})`);
    const run = json<RunJson & { output: { results: { summarise: unknown } } }>(result);
    expect(run).toMatchObject({ status: 'SUCCEEDED', partition: '2024-01-05' });
    expect(run.attempts.map((a) => [a.task, a.attempt, a.status])).toStrictEqual([
      ['extract', 1, 'SUCCEEDED'],
      ['summarise', 1, 'SUCCEEDED'],
    ]);
    const status = json<StatusJson>(await sluice(['status', 'orders', '--from', '2024-01-04', '--to', '2024-01-05', '--json'], env));
    expect(status.partitions).toMatchObject([
      { partition: '2024-01-04', status: 'MISSING' },
      { partition: '2024-01-05', status: 'SUCCEEDED', runId: run.runId, trigger: 'manual' },
    ]);
    // The run wrote to the DynamoDB the dev process serves, not to one of its own.
    const dynamodb = new DynamoDBClient({ endpoint: dev.dynamodb, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    try {
      const [table] = (await dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
      const item = await dynamodb.send(new GetItemCommand({ TableName: table, Key: { pipeline: { S: 'orders' }, partition: { S: '2024-01-05' } } }));
      expect(item.Item).toMatchObject({ status: { S: 'SUCCEEDED' }, runId: { S: run.runId } });
    } finally {
      dynamodb.destroy();
    }
  });

  it('prints every task attempt and the outcome in a table', async () => {
    // When
    const result = await sluice(['run', 'orders', '--partition', '2024-01-06'], env);

    // Then
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^TASK\s+ATTEMPT\s+STATUS\s+DURATION\s+ERROR$/m);
    expect(result.stdout).toMatch(/^extract\s+attempt 1\s+SUCCEEDED\s+\d+\.\d s$/m);
    expect(result.stdout).toMatch(/^summarise\s+attempt 1\s+SUCCEEDED\s+\d+\.\d s$/m);
    expect(result.stdout).toMatch(/^SUCCEEDED in \d+\.\d s {2}\(orders, partition 2024-01-06, run orders_2024-01-06_r1\)$/m);
  });

  it('fails a run whose task fails permanently: exit 1, partition FAILED with the error message', async () => {
    // When
    const result = await sluice(['run', 'malformed-feed', '--partition', 'eu'], env);

    // Then
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^load\s+attempt 1\s+FAILED\s+\d+\.\d s\s+MalformedFeedError: feed of region eu has no header row$/m);
    expect(result.stdout).not.toContain('attempt 2');
    expect(result.stdout).toMatch(/^FAILED in /m);
    expect(result.stdout).toContain('Error: MalformedFeedError: feed of region eu has no header row');
    const status = json<StatusJson>(await sluice(['status', 'malformed-feed', '--json'], env));
    expect(status.partitions).toMatchObject([
      { partition: 'eu', status: 'FAILED', error: 'MalformedFeedError', errorMessage: 'feed of region eu has no header row' },
      { partition: 'us', status: 'MISSING' },
    ]);
    const table = await sluice(['status', 'malformed-feed'], env);
    expect(table.stdout).toMatch(/^eu\s+FAILED\s+1\s+\S+\s+manual\s+\S+ \S+Z\s+MalformedFeedError: feed of region eu has no header row$/m);
    const runs = json<RunsJson>(await sluice(['runs', 'malformed-feed', '--json'], env));
    expect(runs.runs[0]).toMatchObject({ partition: 'eu', status: 'FAILED', trigger: 'manual' });
    // And the run monitor's bundle published one alert for it
    const alerts = readFileSync(join(home, 'alerts.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { subject: string; message: string })
      .filter((a) => a.message.includes('malformed-feed'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0].subject).toMatch(/^sluice: FAILED /);
    expect(alerts[0].message).toContain('MalformedFeedError');
  });

  it('never leaves a partition RUNNING when the process running it is killed', async () => {
    // Given a run in progress
    const running = spawnSluice(['run', 'slow-export', '--partition', '2024-01-03'], env);
    const exited = new Promise((resolve) => running.once('close', resolve));
    const deadline = Date.now() + 60_000;
    let status: string | undefined;
    while (status !== 'RUNNING' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = json<RunsJson>(await sluice(['runs', 'slow-export', '--json'], env)).runs.find((r) => r.partition === '2024-01-03')?.status;
    }
    expect(status).toBe('RUNNING');

    // When its process dies without a chance to clean up
    running.kill('SIGKILL');
    await exited;

    // Then the next command fails the run and the partition, saying why
    const after = json<StatusJson>(await sluice(['status', 'slow-export', '--from', '2024-01-03', '--to', '2024-01-03', '--json'], env));
    expect(after.partitions).toMatchObject([{ partition: '2024-01-03', status: 'FAILED', error: 'sluice.ProcessEnded' }]);
    const runs = json<RunsJson>(await sluice(['runs', 'slow-export', '--json'], env));
    expect(runs.runs[0]).toMatchObject({ partition: '2024-01-03', status: 'ABORTED' });
  });

  it('fails a partition whose launch was interrupted between the claim and the execution', async () => {
    // Given a partition claimed a minute ago by a launcher that never started its execution
    const dynamodb = new DynamoDBClient({ endpoint: dev.dynamodb, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    try {
      const [table] = (await dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
      const claim = await new PartitionStore(dynamodb, String(table)).claim('slow-export', '2024-01-04', { trigger: 'manual', now: new Date(Date.now() - 10 * 60_000) });
      expect(claim.kind).toBe('claimed');
    } finally {
      dynamodb.destroy();
    }

    // When the next command starts
    const after = json<StatusJson>(await sluice(['status', 'slow-export', '--from', '2024-01-04', '--to', '2024-01-04', '--json'], env));

    // Then the partition is FAILED, saying why
    expect(after.partitions).toMatchObject([{ partition: '2024-01-04', status: 'FAILED', error: 'sluice.LaunchInterrupted' }]);
  });

  it('retries a transient failure per the retry policy, then succeeds', async () => {
    // When
    const asJson = await sluice(['run', 'flaky-source', '--partition', '2024-01-07', '--json'], env);
    const asTable = await sluice(['run', 'flaky-source', '--partition', '2024-01-08'], env);

    // Then
    expect(asJson.code).toBe(0);
    const run = json<RunJson>(asJson);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.attempts.map((a) => [a.task, a.attempt, a.status, a.error ?? null])).toStrictEqual([
      ['fetch', 1, 'FAILED', 'SourceUnavailableError'],
      ['fetch', 2, 'FAILED', 'SourceUnavailableError'],
      ['fetch', 3, 'SUCCEEDED', null],
    ]);
    expect(run.attempts[0]!.errorMessage).toBe('source unavailable (call 1 for 2024-01-07)');
    expect(asTable.code).toBe(0);
    expect(asTable.stdout).toMatch(/^fetch\s+attempt 1\s+FAILED\s+\d+\.\d s\s+SourceUnavailableError: source unavailable \(call 1 for 2024-01-08\)$/m);
    expect(asTable.stdout).toMatch(/^fetch\s+attempt 2\s+FAILED\s+/m);
    expect(asTable.stdout).toMatch(/^fetch\s+attempt 3\s+SUCCEEDED\s+/m);
  });

  it('starts exactly the matching pipeline, on the partition in the key, when an object arrives in S3', async () => {
    // Given
    const s3 = localS3Client(dev);
    const mark = dev.output().length;

    // When
    try {
      await s3.send(new PutObjectCommand({ Bucket: dev.rawBucket, Key: 'drops/2024-02-10/store-1.csv', Body: 'sku,qty\na,1\nb,2\n' }));
    } finally {
      s3.destroy();
    }

    // Then
    const partition = await pollStatus(env, 'drops', '2024-02-10', 'SUCCEEDED');
    expect(partition).toMatchObject({ status: 'SUCCEEDED', trigger: 's3' });
    // Triggers run in the dev process, which prints every run it starts.
    const started = [...dev.output().slice(mark).matchAll(/ run {6}(\S+) {2}(\S+) {2}run \S+ started \((\w+)\)/g)].map((m) => m.slice(1));
    expect(started).toStrictEqual([['drops', '2024-02-10', 's3']]);
    const [latest] = json<RunsJson>(await sluice(['runs', 'drops', '--json'], env)).runs;
    expect(latest).toMatchObject({ partition: '2024-02-10', trigger: 's3', status: 'SUCCEEDED' });
    await expect.poll(() => dev.output()).toMatch(/ run {6}drops {2}2024-02-10 {2}run \S+ SUCCEEDED in \d+\.\d s/);
  });

  it('starts nothing for keys that match no trigger pattern', async () => {
    // Given
    const s3 = localS3Client(dev);
    const runsBefore = json<RunsJson>(await sluice(['runs', 'drops', '--json'], env)).runs;
    const mark = dev.output().length;

    // When: a wrong prefix, and the right prefix with a wrong suffix
    try {
      await s3.send(new PutObjectCommand({ Bucket: dev.rawBucket, Key: 'elsewhere/2024-02-11/store-1.csv', Body: 'sku,qty\na,1\n' }));
      await s3.send(new PutObjectCommand({ Bucket: dev.rawBucket, Key: 'drops/2024-02-12/readme.txt', Body: 'not a drop' }));
    } finally {
      s3.destroy();
    }
    // S3 events arrive asynchronously, as on AWS; give any launch time to show.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    // Then
    // Lines about earlier runs may still arrive; no run may start. The key no rule matches is named.
    expect(dev.output().slice(mark)).not.toContain(' started (');
    expect(dev.output().slice(mark)).toContain(`upload   s3://${dev.rawBucket}/elsewhere/2024-02-11/store-1.csv matches no trigger: nothing runs`);
    const [runs, status] = await Promise.all([
      sluice(['runs', 'drops', '--json'], env),
      sluice(['status', 'drops', '--from', '2024-02-11', '--to', '2024-02-12', '--json'], env),
    ]);
    expect(json<RunsJson>(runs).runs).toStrictEqual(runsBefore);
    expect(json<StatusJson>(status).partitions.map((p) => [p.partition, p.status])).toStrictEqual([
      ['2024-02-11', 'MISSING'],
      ['2024-02-12', 'MISSING'],
    ]);
  });

  it.each([
    { problem: 'an unknown pipeline', args: ['run', 'nope', '--partition', '2024-01-01'], message: 'Unknown pipeline "nope". Pipelines: ' },
    { problem: 'a key that is not a partition', args: ['run', 'orders', '--partition', '2024-13-45'], message: 'is not a partition of pipeline "orders"' },
    { problem: 'a static pipeline without --partition', args: ['run', 'malformed-feed'], message: 'choose one with --partition' },
    { problem: 'an unknown pipeline in status', args: ['status', 'nope'], message: 'Unknown pipeline "nope"' },
    { problem: 'a malformed --from', args: ['status', 'orders', '--from', 'yesterday'], message: 'from: ' },
  ])('fails with exit 2 on $problem', async ({ args, message }) => {
    // When
    const result = await sluice(args, env);

    // Then
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('fails with exit 2 when a second sluice dev starts on the same home', async () => {
    // When
    const result = await sluice(['dev'], env);

    // Then
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`sluice dev already runs on ${home} (pid ${dev.pid})`);
  });
});
