import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, cliEnv, json, runtimeFixtures, STACK_FRAME, sluice, spawnSluice } from './sluice';

interface RunJson {
  status: string;
  partition: string;
  runId: string;
  attempts: { task: string; attempt: number; status: string; error?: string }[];
}
interface StatusJson {
  partitions: { partition: string; status: string }[];
}

function expectClean(result: CliResult): void {
  expect(result.stderr).not.toMatch(STACK_FRAME);
  expect(result.stderr).not.toContain('Database is closed');
}

/** Waits until the home's shared local services have stopped (they stop when idle). */
async function servicesStopped(home: string): Promise<void> {
  for (let i = 0; i < 200 && existsSync(join(home, 'services.json')); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(existsSync(join(home, 'services.json'))).toBe(false);
}

/** Concurrent commands and damaged local state, each on one SLUICE_HOME, without `sluice dev`. */
describe('the local runtime under concurrent commands and damaged state', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-cli-local-'));
    // Services that stop soon after the last command, so that a test can damage their store.
    env = cliEnv(home, { SLUICE_PIPELINES: runtimeFixtures, SLUICE_SERVICES_IDLE_MS: '300' });
  });
  afterAll(async () => {
    await servicesStopped(home);
    await rm(home, { recursive: true, force: true });
  });

  it('runs one partition once when two runs of it start at once on a fresh home: the other is told it is running', async () => {
    // When
    const results = await Promise.all([0, 1].map(() => sluice(['run', 'steady', '--partition', '2024-01-01', '--json'], env)));

    // Then
    for (const result of results) expectClean(result);
    const codes = results.map((r) => r.code).sort();
    expect(codes).toStrictEqual([0, 1]);
    const succeeded = results.find((r) => r.code === 0)!;
    const refused = results.find((r) => r.code === 1)!;
    expect(json<RunJson>(succeeded).status).toBe('SUCCEEDED');
    expect(json<{ status: string; reason: string }>(refused)).toMatchObject({ status: 'SKIPPED', reason: expect.stringContaining('already running') });
    // Both commands synthesize a fresh home's stage (one waits for the other): slow on a busy machine.
  }, 300_000);

  it('runs three partitions at once, all to success', async () => {
    // When
    const partitions = ['2024-01-02', '2024-01-03', '2024-01-04'];
    const results = await Promise.all(partitions.map((partition) => sluice(['run', 'steady', '--partition', partition, '--json'], env)));

    // Then
    for (const result of results) expectClean(result);
    expect(results.map((r) => r.code)).toStrictEqual([0, 0, 0]);
    expect(results.map((r) => json<RunJson>(r).status)).toStrictEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  });

  it('answers status while a run is in progress', async () => {
    // When
    const running = sluice(['run', 'steady', '--partition', '2024-01-05', '--json'], env);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const status = await sluice(['status', 'steady', '--from', '2024-01-01', '--to', '2024-01-05', '--json'], env);
    const run = await running;

    // Then
    expectClean(status);
    expectClean(run);
    expect(status.code).toBe(0);
    expect(run.code).toBe(0);
    expect(json<StatusJson>(status).partitions.slice(0, 4).map((p) => p.status)).toStrictEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  });

  it('reports a truncated execution record by its file and goes on with the other commands', async () => {
    // Given
    const dir = join(home, 'executions');
    const [machine] = readdirSync(dir);
    const [record] = readdirSync(join(dir, machine!)).filter((f) => f.endsWith('.json'));
    const file = join(dir, machine!, record!);
    truncateSync(file, 40);

    // When
    const run = await sluice(['run', 'steady', '--partition', '2024-01-06', '--json'], env);
    const runs = await sluice(['runs', 'steady', '--json'], env);

    // Then
    expectClean(run);
    expectClean(runs);
    // (a run's start reads only the records of executions still running: it never reads this one)
    expect(run.code).toBe(0);
    expect(runs.code).toBe(0);
    expect(runs.stderr).toContain(record!);
  });

  it('removes the folders of builds interrupted by a process that is gone', async () => {
    // Given
    const leftover = join(home, 'cdk.out.building-999999999');
    mkdirSync(leftover, { recursive: true });
    writeFileSync(join(leftover, 'manifest.json'), '{');

    // When
    const result = await sluice(['status', 'steady', '--json'], env);

    // Then
    expect(result.code).toBe(0);
    expect(existsSync(leftover)).toBe(false);
  });

  it('runs a pipeline beside a broken one, which is reported and refused, while validate still fails', async () => {
    // When
    const run = await sluice(['run', 'steady', '--partition', '2024-01-08', '--json'], env);
    const list = await sluice(['list', '--json'], env);
    const broken = await sluice(['run', 'typo', '--partition', '2024-01-08'], env);
    const validate = await sluice(['validate'], env);

    // Then
    expectClean(run);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('pipeline "typo" is skipped');
    expect(list.code).toBe(0);
    expect(json<{ name: string }[]>(list).map((p) => p.name)).toStrictEqual(['crashing', 'lingering', 'overtime', 'steady']);
    expect(list.stderr).toContain('warning: skipped pipeline "typo"');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('Pipeline "typo" cannot run: pipeline "typo", task "load": ');
    expect(validate.code).toBe(1);
    expect(validate.stdout).toContain('pipeline "typo", task "load"');
  });

  it('fails only the invocation of a handler that exits or crashes from a callback, as Lambda would', async () => {
    // When a handler calls process.exit, throws from a timer, or leaves a promise rejected
    const runs = [];
    for (const partition of ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04']) {
      runs.push(await sluice(['run', 'crashing', '--partition', partition, '--json'], env));
    }

    // Then each failed its run, with Lambda's error, and the command went on to report it
    for (const run of runs) expectClean(run);
    expect(runs.map((run) => run.code)).toStrictEqual([1, 1, 1, 0]);
    const errors = runs.map((run) => json<RunJson>(run).attempts[0]?.error);
    expect(errors).toStrictEqual(['Runtime.ExitError', 'TypeError', 'Runtime.UnhandledPromiseRejection', undefined]);
  }, 300_000);

  it('marks a run interrupted by Ctrl+C ABORTED at once, says so, and alerts', async () => {
    // Given a run in progress
    const child = spawnSluice(['run', 'lingering', '--partition', '2024-01-01'], env);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const status = async () => json<StatusJson>(await sluice(['status', 'lingering', '--from', '2024-01-01', '--to', '2024-01-01', '--json'], env)).partitions[0]?.status;
    await expect.poll(status, { timeout: 120_000, interval: 500 }).toBe('RUNNING');

    // When
    child.kill('SIGINT');
    const code = await exited;

    // Then
    expect(code).toBe(130);
    expect(stderr).not.toMatch(STACK_FRAME);
    expect(stderr).toContain('was stopped and marked ABORTED');
    expect(await status()).toBe('FAILED');
    const alerts = readFileSync(join(home, 'alerts.jsonl'), 'utf8');
    expect(alerts).toContain('lingering');
    expect(alerts).toContain('ABORTED');
  }, 300_000);

  it('reports an emptied DynamoDB store by its folder, repairs it and keeps its data', async () => {
    // Given
    await servicesStopped(home);
    const current = join(home, 'dynamodb', 'CURRENT');
    expect(readFileSync(current, 'utf8')).not.toBe('');
    truncateSync(current, 0);

    // When
    const status = await sluice(['status', 'steady', '--from', '2024-01-01', '--to', '2024-01-01', '--json'], env);

    // Then
    expectClean(status);
    expect(status.code).toBe(0);
    expect(status.stderr).toContain(join(home, 'dynamodb'));
    expect(json<StatusJson>(status).partitions).toMatchObject([{ partition: '2024-01-01', status: 'SUCCEEDED' }]);
  });
});
