import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPipeline, stopRuntimes } from '../../local/testing';
import { projectDir } from '../cli/sluice';

// One home for the file: the local stage is synthesized once, then each run starts at once.
const home = mkdtempSync(join(tmpdir(), 'sluice-testing-'));
// The example project's stages; the pipelines are the fixtures beside this file.
const options = { projectDir, pipelinesDir: join(__dirname, 'fixtures/testing'), home };
afterAll(async () => {
  await stopRuntimes();
  rmSync(home, { recursive: true, force: true });
});

describe('runPipeline, the testing helper', () => {
  it("returns each task's result and attempts from a run on the local runtime", async () => {
    const run = await runPipeline('greet', options);

    expect(run).toMatchObject({ pipeline: 'greet', partition: 'default', status: 'SUCCEEDED' });
    expect(run.tasks.hello).toStrictEqual({ status: 'SUCCEEDED', result: { greeting: 'hello default' }, attempts: [{ attempt: 1 }] });
    expect(run.tasks.shout).toStrictEqual({ status: 'SUCCEEDED', result: 'HELLO DEFAULT', attempts: [{ attempt: 1 }] });
  });

  it("runs an override instead of a task's handler, with the task's retries, and its dependants' results follow", async () => {
    const stubbed = await runPipeline('greet', { ...options, overrides: { hello: async () => ({ greeting: 'stub' }) } });
    expect(stubbed.tasks.shout.result).toBe('STUB');

    const failing = await runPipeline('greet', {
      ...options,
      overrides: {
        hello: async () => {
          throw Object.assign(new Error('source down'), { name: 'SourceDownError' });
        },
      },
    });
    expect(failing.status).toBe('FAILED');
    expect(failing.tasks.hello.status).toBe('FAILED');
    expect(failing.tasks.hello.attempts.map((a) => [a.attempt, a.error])).toStrictEqual([
      [1, 'SourceDownError'],
      [2, 'SourceDownError'],
    ]);
    expect(failing.tasks.shout).toStrictEqual({ status: 'NOT_RUN', attempts: [] });
  });

  it('fails on an override of a task the pipeline does not have, naming its tasks', async () => {
    await expect(runPipeline('greet', { ...options, overrides: { helo: async () => 1 } })).rejects.toThrow('Pipeline "greet" has no task "helo". Tasks: hello, shout');
  });
});
