import type { DescribeExecutionCommand, DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import type { LauncherConfig } from '../../lib/compile/contract';
import { launchRerun, planRerun, type RerunDeps } from '../../orchestration';

// a → (b ∥ c) → d
const PIPELINE: Pick<LauncherConfig, 'name' | 'tasks'> = {
  name: 'fanout',
  tasks: [
    { name: 'a', after: [] },
    { name: 'b', after: ['a'] },
    { name: 'c', after: ['a'] },
    { name: 'd', after: ['b', 'c'] },
  ],
};
const RUN = 'fanout_2024-01-01_r1';

describe('planRerun', () => {
  it('re-runs from failure the tasks without a recorded result, reusing the others from the run', () => {
    const plan = planRerun(PIPELINE, RUN, new Set(['a', 'b']), { kind: 'failed' });
    expect(plan).toStrictEqual({ rerun: ['c', 'd'], alsoRerun: [], reuse: { a: RUN, b: RUN } });
  });

  it('re-runs a task and everything downstream of it with --from-task', () => {
    const plan = planRerun(PIPELINE, RUN, new Set(['a', 'b', 'c', 'd']), { kind: 'from-task', task: 'b' });
    expect(plan).toStrictEqual({ rerun: ['b', 'd'], alsoRerun: ['d'], reuse: { a: RUN, c: RUN } });
  });

  it('re-runs exactly the named tasks, and those without a result, with --tasks', () => {
    const plan = planRerun(PIPELINE, RUN, new Set(['a', 'b', 'c']), { kind: 'tasks', tasks: ['b'] });
    expect(plan).toStrictEqual({ rerun: ['b', 'd'], alsoRerun: ['d'], reuse: { a: RUN, c: RUN } });
  });

  it('fails naming the pipeline and its tasks when a task is unknown', () => {
    expect(() => planRerun(PIPELINE, RUN, new Set(), { kind: 'tasks', tasks: ['b', 'e'] })).toThrow(
      'Pipeline "fanout" has no task "e". Tasks: a, b, c, d',
    );
  });

  it('fails a rerun from failure of a run whose every task succeeded', () => {
    expect(() => planRerun(PIPELINE, RUN, new Set(['a', 'b', 'c', 'd']), { kind: 'failed' })).toThrow(
      `Every task of run "${RUN}" succeeded: nothing to rerun from failure`,
    );
  });
});

describe('launchRerun', () => {
  const config: LauncherConfig = { ...PIPELINE, maxConcurrentRuns: 10, triggers: [] };

  function deps(status: DescribeExecutionCommandOutput['status']): RerunDeps {
    const sfn = {
      send: async (command: DescribeExecutionCommand) => ({
        $metadata: {},
        executionArn: command.input.executionArn,
        status,
        input: JSON.stringify({ partition: '2024-01-01' }),
      }),
    } as unknown as RerunDeps['sfn'];
    const unused = () => {
      throw new Error('a rejected rerun must not touch the partition table');
    };
    return {
      sfn,
      store: { get: unused, countRunning: unused, claim: unused, markFailed: unused, requestRerun: unused, claimConsuming: unused, consumeWhileRunning: unused },
      results: { recordedTasks: unused },
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:fanout',
      now: new Date(),
    };
  }

  it('fails a rerun of a run that is still going, launching nothing', async () => {
    await expect(launchRerun({ config, runId: RUN, selection: { kind: 'failed' } }, deps('RUNNING'))).rejects.toMatchObject({
      name: 'RunStillRunningError',
      message: expect.stringContaining(`Run "${RUN}" is still running`),
    });
  });

  it("fails a run id of another pipeline, naming this one", async () => {
    await expect(launchRerun({ config, runId: 'other_2024-01-01_r1', selection: { kind: 'failed' } }, deps('FAILED'))).rejects.toThrow(
      'Unknown run "other_2024-01-01_r1": it is not a run id of pipeline "fanout"',
    );
  });
});
