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

describe('sluice rerun (end to end, local runtime)', () => {
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
  const run = async (partition: string): Promise<RunJson> => json<RunJson>(await sluice(['--json', 'run', 'steps', '--partition', partition], env));
  const rerun = async (...args: string[]): Promise<{ result: CliResult; view: RerunJson }> => {
    const result = await sluice(['--json', 'rerun', ...args], env);
    return { result, view: json<RerunJson>(result) };
  };

  it('re-runs only the failed third task and the fourth, reusing the first two results, and the partition succeeds', async () => {
    // Given a run whose third of four steps fails
    breakStep('2024-03-01', 'load');
    const failed = await run('2024-03-01');
    expect(failed.status).toBe('FAILED');
    expect(invocations('2024-03-01')).toStrictEqual({ extract: 1, clean: 1, load: 1 });

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
    // Given a run whose last step failed
    breakStep('2024-03-02', 'report');
    const failed = await run('2024-03-02');
    invocations('2024-03-02');
    fixStep('2024-03-02', 'report');

    // When the second step is re-run by name
    const human = await sluice(['rerun', failed.runId, '--tasks', 'clean'], env);

    // Then it and the failed step execute, and the others' results are reused
    expect(human.code).toBe(0);
    expect(invocations('2024-03-02')).toStrictEqual({ clean: 1, report: 1 });
    expect(human.stdout).toContain(`Rerun of ${failed.runId}: executes clean, report (with report: downstream without a recorded result)`);
    expect(human.stdout).toMatch(/Reused the results of extract \(from steps_2024-03-02_a1\), load/);
  });

  it('fails with one line and exit 2 for an unknown run, an unknown task, both options, or nothing to re-run', async () => {
    const succeeded = await run('2024-03-03');
    expect(succeeded.status).toBe('SUCCEEDED');

    const cases: [string[], RegExp][] = [
      [['rerun', 'steps_2099-01-01_a1'], /^error: Unknown run "steps_2099-01-01_a1": pipeline "steps" has no such execution/],
      [['rerun', 'nope-a1'], /^error: Unknown run "nope-a1": run ids start with their pipeline's name/],
      [['rerun', succeeded.runId, '--from-task', 'publish'], /^error: Pipeline "steps" has no task "publish"\. Tasks: extract, clean, load, report/],
      [['rerun', succeeded.runId, '--from-task', 'load', '--tasks', 'load'], /^error: --from-task and --tasks cannot be combined/],
      [['rerun', succeeded.runId], /^error: Every task of run "steps_2024-03-03_a1" succeeded: nothing to rerun from failure/],
    ];
    for (const [args, message] of cases) {
      const result = await sluice(args, env);
      expect({ args, code: result.code }).toStrictEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
