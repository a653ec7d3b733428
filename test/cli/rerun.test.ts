import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_DIR } from './fixtures/operations/steps/state';
import { LocalRuntime } from '../../local/runtime';
import { type CliResult, cliEnv, json, projectDir, sluice } from './sluice';

const operations = fileURLToPath(new URL('./fixtures/operations', import.meta.url));

interface RunJson {
  status: string;
  runId: string;
  runNumber: number;
  reused: Record<string, string>;
  output?: { results: Record<string, { value: { rows: number; by: string } }> };
  attempts: { task: string; status: string }[];
}
interface RerunJson extends RunJson {
  rerunOf: string;
  plan: { rerun: string[]; alsoRerun: string[]; reuse: Record<string, string> };
}

describe('sluice rerun and logs (end to end, local runtime)', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-rerun-'));
    env = cliEnv(home, { SLUICE_PIPELINES: operations });
    rmSync(STATE_DIR, { recursive: true, force: true });
    mkdirSync(STATE_DIR, { recursive: true });
    // Synthesizes the fixture (the slow part) before the tests' own clocks start.
    expect((await sluice(['status', 'steps', '--json'], env)).code).toBe(0);
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
    rmSync(STATE_DIR, { recursive: true, force: true });
  });

  /** Breaks a step of a partition for good, or for its next `times` invocations. */
  const breakStep = (partition: string, task: string, times?: number) => writeFileSync(join(STATE_DIR, `${partition}.broken-${task}`), times === undefined ? '' : String(times));
  const fixStep = (partition: string, task: string) => rmSync(join(STATE_DIR, `${partition}.broken-${task}`));
  /** Invocations per task of a partition since the last call, read from what the handlers wrote. */
  const invocations = (partition: string): Record<string, number> => {
    const file = join(STATE_DIR, `${partition}.calls`);
    const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    rmSync(file, { force: true });
    const counts: Record<string, number> = {};
    for (const task of lines) counts[task] = (counts[task] ?? 0) + 1;
    return counts;
  };
  const run = async (partition: string, ...args: string[]): Promise<RunJson> =>
    json<RunJson>(await sluice(['--json', 'run', 'steps', '--partition', partition, ...args], env));
  const rerun = async (...args: string[]): Promise<{ result: CliResult; view: RerunJson }> => {
    const result = await sluice(['--json', 'rerun', ...args], env);
    return { result, view: json<RerunJson>(result) };
  };

  it('re-runs only the failed third task and the fourth, reusing the first two results, and the partition succeeds', async () => {
    // Given a run whose third of four steps fails
    breakStep('2024-03-01', 'load');
    const failed = await run('2024-03-01');
    expect(failed.status).toBe('FAILED');
    expect(invocations('2024-03-01')).toStrictEqual({ extract: 1, clean: 1, load: 3 });

    // Then its logs show each attempt's lines, and --task/--attempt select exactly one attempt's
    const all = await sluice(['logs', failed.runId], env);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^\S+Z {2}extract #1 {2}stdout {2}\{"level":"INFO","message":"step extract of 2024-03-01"/m);
    const second = await sluice(['--json', 'logs', failed.runId, '--task', 'load', '--attempt', '2'], env);
    const lines = second.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toMatchObject([
      { pipeline: 'steps', partition: '2024-03-01', runId: failed.runId, task: 'load', attempt: 2, stream: 'stdout', message: expect.stringContaining('step load') },
      { task: 'load', attempt: 2, stream: 'stderr', message: expect.stringContaining('ERROR Invoke Error {"errorType":"StepBrokenError"') },
    ]);
    expect(new Set(lines.map((l) => l.requestId)).size).toBe(1);
    const typo = await sluice(['logs', failed.runId, '--task', 'lode'], env);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe(`error: Task "lode" did not run in run ${failed.runId} (tasks that ran: extract, clean, load)\n`);

    // When the step is fixed and the run is re-run
    fixStep('2024-03-01', 'load');
    const { result, view } = await rerun(failed.runId);

    // Then only the third and fourth steps execute, fed with the first run's results
    expect(result.code).toBe(0);
    expect(invocations('2024-03-01')).toStrictEqual({ load: 1, report: 1 });
    expect(view).toMatchObject({ status: 'SUCCEEDED', runNumber: 2, rerunOf: failed.runId });
    expect(view.plan).toStrictEqual({
      rerun: ['load', 'report'],
      alsoRerun: [],
      reuse: { extract: failed.runId, clean: failed.runId },
    });
    expect(view.attempts.map((a) => a.task)).toStrictEqual(['load', 'report']);
    expect(view.output?.results.clean.value).toStrictEqual({ rows: 2, by: failed.runId });
    expect(view.output?.results.report.value).toStrictEqual({ rows: 4, by: view.runId });
    const status = json<{ partitions: { partition: string; status: string; runId: string }[] }>(
      await sluice(['--json', 'status', 'steps', '--from', '2024-03-01', '--to', '2024-03-01'], env),
    );
    expect(status.partitions).toMatchObject([{ partition: '2024-03-01', status: 'SUCCEEDED', runId: view.runId }]);

    // And --from-task re-runs a task and everything downstream of it, reusing what the rerun recorded
    const from = await rerun(view.runId, '--from-task', 'clean');
    expect(from.result.code).toBe(0);
    expect(invocations('2024-03-01')).toStrictEqual({ clean: 1, load: 1, report: 1 });
    expect(from.view.plan).toStrictEqual({ rerun: ['clean', 'load', 'report'], alsoRerun: ['load', 'report'], reuse: { extract: view.runId } });
    expect(from.view.output?.results.extract.value).toStrictEqual({ rows: 1, by: failed.runId });
  });

  it('re-runs exactly the tasks named by --tasks, and says which tasks without a result it runs with them', async () => {
    // Given a run with parameters whose last step failed
    breakStep('2024-03-02', 'report');
    const failed = await run('2024-03-02', '--param', 'limit=5', '--param', 'dryRun=true');
    invocations('2024-03-02');
    fixStep('2024-03-02', 'report');
    // (every task received the parameters, over the defaults)
    const logged = (await sluice(['--json', 'logs', failed.runId], env)).stdout.trim().split('\n').map((l) => JSON.parse(l) as { task: string; message: string });
    const params = { limit: 5, label: 'daily', dryRun: true };
    expect(logged.filter((l) => l.message.startsWith('{')).map((l) => [l.task, JSON.parse(l.message).params])).toStrictEqual(
      ['extract', 'clean', 'load', 'report'].map((task) => [task, params]),
    );

    // When the second step is re-run by name
    const human = await sluice(['rerun', failed.runId, '--tasks', 'clean'], env);

    // Then it and the failed step execute, with the run's parameters, and the others' results are reused
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('Parameters: limit=5 label="daily" dryRun=true');
    expect(invocations('2024-03-02')).toStrictEqual({ clean: 1, report: 1 });
    expect(human.stdout).toContain(`Rerun of ${failed.runId}: executes clean, report (with report: downstream without a recorded result)`);
    expect(human.stdout).toMatch(/Reused the results of extract \(from steps_2024-03-02_r1\), load/);
  });

  it('fails with one line and exit 2 for an unknown run, an unknown task, both options, nothing to re-run, or a bad parameter', async () => {
    const succeeded = await run('2024-03-03');
    expect(succeeded.status).toBe('SUCCEEDED');

    const cases: [string[], RegExp][] = [
      [['rerun', 'steps_2099-01-01_r1'], /^error: Unknown run "steps_2099-01-01_r1": pipeline "steps" has no such execution/],
      [['logs', 'steps_2099-01-01_r1'], /^error: Unknown run "steps_2099-01-01_r1" in /],
      [['rerun', 'nope-r1'], /^error: Unknown run "nope-r1": run ids start with their pipeline's name/],
      [['rerun', succeeded.runId, '--from-task', 'publish'], /^error: Pipeline "steps" has no task "publish"\. Tasks: extract, clean, load, report/],
      [['rerun', succeeded.runId, '--from-task', 'load', '--tasks', 'load'], /^error: --from-task and --tasks cannot be combined/],
      [['run', 'steps', '--partition', '2024-03-04', '--param', 'limit=lots', '--param', 'colour=red'],
        /^error: Pipeline "steps": parameter "limit" must be a number, not "lots"; unknown parameter "colour" \(parameters: limit, label, dryRun\)/],
      [['run', 'steps', '--param', 'limit'], /^error: --param "limit" is not name=value/],
      [['rerun', succeeded.runId], /^error: Every task of run "steps_2024-03-03_r1" succeeded: nothing to rerun from failure/],
    ];
    for (const [args, message] of cases) {
      const result = await sluice(args, env);
      expect({ args, code: result.code }).toStrictEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('pauses a schedule so that a tick fires nothing, and resumes it', async () => {
    // Given the schedule is paused
    const paused = await sluice(['pause', 'steps'], env);
    expect(paused.stdout).toContain('steps: schedule paused. Ticks are not made up on resume');
    const listed = json<{ schedules: unknown[] }>(await sluice(['--json', 'schedules'], env));
    expect(listed.schedules).toStrictEqual([{ pipeline: 'steps', cron: '0 6 * * *', timezone: 'Europe/Paris', state: 'PAUSED' }]);

    // When a tick comes, it fires nothing
    const tick = await sluice(['tick', 'steps', '--at', '2024-03-06T05:00:00Z'], env);
    expect(tick.code).toBe(1);
    expect(tick.stderr).toBe('steps: the schedule is paused, so the tick fired nothing. Resume it with sluice resume steps\n');

    // Then once resumed, a tick runs the partition the schedule would have
    expect((await sluice(['resume', 'steps'], env)).code).toBe(0);
    const fired = await sluice(['tick', 'steps', '--at', '2024-03-06T05:00:00Z'], env);
    expect(fired.stdout).toBe('steps: partition 2024-03-05 started run steps_2024-03-05_r1\n');
    const status = json<{ partitions: { status: string }[] }>(await sluice(['--json', 'status', 'steps', '--from', '2024-03-05', '--to', '2024-03-05'], env));
    expect(status.partitions).toMatchObject([{ status: 'SUCCEEDED' }]);
    expect(invocations('2024-03-05')).toStrictEqual({ extract: 1, clean: 1, load: 1, report: 1 });
  });

  describe('the same scenario on a deployed stage (--stage), through the AWS SDK against the local endpoints', () => {
    let runtime: LocalRuntime;
    let stageEnv: NodeJS.ProcessEnv;
    const stage = async (...args: string[]) => sluice([...args, '--stage', 'local'], stageEnv);

    beforeAll(async () => {
      // The runtime serves what a deployed stage's operations call; the CLI finds it only through
      // the SDK's own endpoint variables and the parameters the stage's stacks publish.
      runtime = await LocalRuntime.start({ projectDir, pipelinesDir: operations, home, retryIntervalMs: 50 });
      stageEnv = {
        ...env,
        ...runtime.deployedStageEnvironment,
        AWS_ACCESS_KEY_ID: 'AKIAOPERATOR',
        AWS_SECRET_ACCESS_KEY: 'operator',
        AWS_EC2_METADATA_DISABLED: 'true',
      };
    });
    afterAll(async () => {
      await runtime?.stop();
    });

    it('re-runs only the failed tasks, reads the failing attempt\'s logs, and shows status and runs', async () => {
      // Given a run on the stage whose third of four steps fails
      breakStep('2024-04-01', 'load');
      const failedRun = await stage('--json', 'run', 'steps', '--partition', '2024-04-01');
      expect(failedRun.code).toBe(1);
      const failed = json<RunJson>(failedRun);
      expect(failed).toMatchObject({ status: 'FAILED', runId: 'steps_2024-04-01_r1' });
      // (its task attempts read from the execution's history, as on AWS)
      expect(failed.attempts.map((x) => [x.task, x.status])).toStrictEqual([
        ['extract', 'SUCCEEDED'],
        ['clean', 'SUCCEEDED'],
        ['load', 'FAILED'],
        ['load', 'FAILED'],
        ['load', 'FAILED'],
      ]);
      expect(invocations('2024-04-01')).toStrictEqual({ extract: 1, clean: 1, load: 3 });

      // Then its logs (CloudWatch Logs FilterLogEvents) show the failing attempt's lines, and only
      // them: the lines `sluice logs` reads locally for that attempt
      const logs = await stage('--json', 'logs', failed.runId, '--task', 'load', '--attempt', '2');
      expect(logs.code).toBe(0);
      const lines = logs.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map(({ task, attempt }) => ({ task, attempt }))).toContainEqual({ task: 'load', attempt: 2 });
      expect(lines.every((l) => l.runId === failed.runId && l.task === 'load' && l.attempt === 2)).toBe(true);
      expect(lines.at(-1)).toMatchObject({ stream: 'stderr', message: expect.stringContaining('ERROR Invoke Error {"errorType":"StepBrokenError"') });
      expect(logs.stdout).toBe((await sluice(['--json', 'logs', failed.runId, '--task', 'load', '--attempt', '2'], env)).stdout);
      const typo = await stage('logs', failed.runId, '--task', 'lode');
      expect(typo.code).toBe(2);
      expect(typo.stderr).toBe('error: Pipeline "steps" has no task "lode". Tasks: extract, clean, load, report\n');

      // When the step is fixed and the run re-run on the stage
      fixStep('2024-04-01', 'load');
      const rerunResult = await stage('--json', 'rerun', failed.runId);
      expect(rerunResult.code).toBe(0);
      const rerun = json<RerunJson>(rerunResult);

      // Then only the third and fourth steps execute, and status and runs show it
      expect(invocations('2024-04-01')).toStrictEqual({ load: 1, report: 1 });
      expect(rerun).toMatchObject({ status: 'SUCCEEDED', runNumber: 2, rerunOf: failed.runId, plan: { rerun: ['load', 'report'] } });
      expect(rerun.attempts.map((x) => x.task)).toStrictEqual(['load', 'report']);
      const status = json<{ partitions: { partition: string; status: string; runId: string }[] }>(
        await stage('--json', 'status', 'steps', '--from', '2024-04-01', '--to', '2024-04-01'),
      );
      expect(status.partitions).toMatchObject([{ partition: '2024-04-01', status: 'SUCCEEDED', runId: rerun.runId }]);
      const runs = json<{ runs: { runId: string; status: string; partition: string }[] }>(await stage('--json', 'runs', 'steps', '--limit', '2'));
      expect(runs.runs).toMatchObject([
        { runId: rerun.runId, status: 'SUCCEEDED', partition: '2024-04-01' },
        { runId: failed.runId, status: 'FAILED', partition: '2024-04-01' },
      ]);

      // And a bad parameter is refused before anything starts, with one line and exit 2
      const bad = await stage('run', 'steps', '--partition', '2024-04-02', '--param', 'limit=lots');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^error: Pipeline "steps": parameter "limit" must be a number, not "lots"/);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    });

    it('prints the lines of one task attempt of a run whose task failed twice, then succeeded', async () => {
      // Given a run on the stage whose third step fails twice, then succeeds on its second retry
      breakStep('2024-04-03', 'load', 2);
      const run = json<RunJson>(await stage('--json', 'run', 'steps', '--partition', '2024-04-03'));
      expect(run.status).toBe('SUCCEEDED');
      expect(invocations('2024-04-03')).toStrictEqual({ extract: 1, clean: 1, load: 3, report: 1 });

      // When the logs of its second attempt are read from CloudWatch Logs
      const logs = await stage('--json', 'logs', run.runId, '--task', 'load', '--attempt', '2');

      // Then they are that attempt's lines and only them: what the handler printed (told it was
      // the first retry) and its error, from one invocation; as sluice logs reads them locally
      expect(logs.code).toBe(0);
      const lines = logs.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toMatchObject([
        { runId: run.runId, task: 'load', attempt: 2, stream: 'stdout', message: expect.stringContaining('"retryCount":1') },
        { runId: run.runId, task: 'load', attempt: 2, stream: 'stderr', message: expect.stringContaining('ERROR Invoke Error {"errorType":"StepBrokenError"') },
      ]);
      expect(new Set(lines.map((l) => l.requestId)).size).toBe(1);
      expect(logs.stdout).toBe((await sluice(['--json', 'logs', run.runId, '--task', 'load', '--attempt', '2'], env)).stdout);
    });

    it('pauses the schedule (Scheduler State) so that a tick fires nothing, resumes it, and back-fills a range', async () => {
      // Given the schedule is paused on the stage
      expect((await stage('pause', 'steps')).code).toBe(0);
      expect(json<{ schedules: unknown[] }>(await stage('--json', 'schedules')).schedules).toMatchObject([{ pipeline: 'steps', state: 'PAUSED' }]);

      // When a tick comes, it fires nothing
      const tick = await stage('tick', 'steps', '--at', '2024-04-06T05:00:00Z');
      expect(tick.code).toBe(1);
      expect(tick.stderr).toBe('steps: the schedule is paused, so the tick fired nothing. Resume it with sluice resume steps --stage local\n');

      // Then once resumed, a tick runs the partition the schedule would have
      expect((await stage('resume', 'steps')).code).toBe(0);
      const fired = await stage('tick', 'steps', '--at', '2024-04-06T05:00:00Z');
      expect(fired.stdout).toBe('steps: partition 2024-04-05 started run steps_2024-04-05_r1\n');
      expect(invocations('2024-04-05')).toStrictEqual({ extract: 1, clean: 1, load: 1, report: 1 });

      // And a backfill of a few partitions runs them, and is listed with its progress
      const backfill = json<{ status: string; succeeded: number; backfillId: string }>(
        await stage('--json', 'backfill', 'steps', '--from', '2024-04-10', '--to', '2024-04-12'),
      );
      expect(backfill).toMatchObject({ status: 'SUCCEEDED', succeeded: 3 });
      const listed = json<{ backfills: { backfillId: string; status: string; done: number }[] }>(await stage('--json', 'backfills', 'steps'));
      expect(listed.backfills).toMatchObject([{ backfillId: backfill.backfillId, status: 'SUCCEEDED', done: 3 }]);
    });

    it('fails with one line and exit 2 for a stage that is not configured, not deployed, or without credentials', async () => {
      const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
        [['status', 'steps', '--stage', 'nope'], stageEnv, /^error: stage "nope" is not configured in sluice\.config\.ts \(stages: local, dev, test, prod\)/],
        [['status', 'steps', '--stage', 'dev'], stageEnv, /^error: stage dev is not deployed in eu-west-1: run npx cdk deploy 'dev\/\*'\n$/],
        [
          ['runs', 'steps', '--stage', 'local'],
          { ...stageEnv, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'), AWS_CONFIG_FILE: join(home, 'none') },
          /^error: no AWS credentials for stage local \(us-east-1\)/,
        ],
      ];
      for (const [args, caseEnv, message] of cases) {
        const result = await sluice(args, caseEnv);
        expect({ args, code: result.code }).toStrictEqual({ args, code: 2 });
        expect(result.stderr).toMatch(message);
        expect(result.stderr.trim().split('\n')).toHaveLength(1);
      }
    });
  });
});
