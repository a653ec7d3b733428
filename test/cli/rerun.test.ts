import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_DIR } from './fixtures/operations/steps/state';
import { type CliResult, cliEnv, json, sluice } from './sluice';

const operations = fileURLToPath(new URL('./fixtures/operations', import.meta.url));

interface RunJson {
  status: string;
  runId: string;
  attempt: number;
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

  const breakStep = (partition: string, task: string) => writeFileSync(join(STATE_DIR, `${partition}.broken-${task}`), '');
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
    expect(invocations('2024-03-01')).toStrictEqual({ extract: 1, clean: 1, load: 2 });

    // Then its logs show each attempt's lines, and --task/--attempt select exactly one attempt's
    const all = await sluice(['logs', failed.runId], env);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^\S+Z {2}extract #1 {2}stdout {2}\{"message":"step extract of 2024-03-01"/m);
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
    expect(view).toMatchObject({ status: 'SUCCEEDED', attempt: 2, rerunOf: failed.runId });
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
    expect(human.stdout).toMatch(/Reused the results of extract \(from steps_2024-03-02_a1\), load/);
  });

  it('fails with one line and exit 2 for an unknown run, an unknown task, both options, nothing to re-run, or a bad parameter', async () => {
    const succeeded = await run('2024-03-03');
    expect(succeeded.status).toBe('SUCCEEDED');

    const cases: [string[], RegExp][] = [
      [['rerun', 'steps_2099-01-01_a1'], /^error: Unknown run "steps_2099-01-01_a1": pipeline "steps" has no such execution/],
      [['logs', 'steps_2099-01-01_a1'], /^error: Unknown run "steps_2099-01-01_a1" in /],
      [['rerun', 'nope-a1'], /^error: Unknown run "nope-a1": run ids start with their pipeline's name/],
      [['rerun', succeeded.runId, '--from-task', 'publish'], /^error: Pipeline "steps" has no task "publish"\. Tasks: extract, clean, load, report/],
      [['rerun', succeeded.runId, '--from-task', 'load', '--tasks', 'load'], /^error: --from-task and --tasks cannot be combined/],
      [['run', 'steps', '--partition', '2024-03-04', '--param', 'limit=lots', '--param', 'colour=red'],
        /^error: Pipeline "steps": parameter "limit" must be a number, not "lots"; unknown parameter "colour" \(parameters: limit, label, dryRun\)/],
      [['run', 'steps', '--param', 'limit'], /^error: --param "limit" is not name=value/],
      [['rerun', succeeded.runId], /^error: Every task of run "steps_2024-03-03_a1" succeeded: nothing to rerun from failure/],
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
    expect(fired.stdout).toBe('steps: partition 2024-03-05 started run steps_2024-03-05_a1\n');
    const status = json<{ partitions: { status: string }[] }>(await sluice(['--json', 'status', 'steps', '--from', '2024-03-05', '--to', '2024-03-05'], env));
    expect(status.partitions).toMatchObject([{ status: 'SUCCEEDED' }]);
    expect(invocations('2024-03-05')).toStrictEqual({ extract: 1, clean: 1, load: 1, report: 1 });
  });
});
