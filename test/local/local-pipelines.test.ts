import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStage, type LocalStage } from '../../local/engine';
import { checkPipelines, functionsToWarm, pipelinesOf } from '../../local/local-pipelines';
import { LAUNCHER_ENV } from '../../lib/compile/contract';
import { synthLocalStage } from '../../local/synth';

const projectDir = fileURLToPath(new URL('../../examples', import.meta.url));
const pipelinesDir = fileURLToPath(new URL('./fixtures/testing', import.meta.url));

describe('the functions a command warms up', () => {
  let home: string;
  let stage: LocalStage;
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'sluice-warm-'));
    const synth = await synthLocalStage({ projectDir, pipelinesDir, home });
    stage = loadStage(synth.buildDir, 'local');
  }, 180_000);
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  /** The functions a state machine's Task states invoke. */
  const invokedBy = (definition: unknown): string[] =>
    JSON.stringify(definition).match(/arn:aws:lambda:[^"]+:function:[^"]+/g)?.map((arn) => stage.findFunction(arn)!.arn) ?? [];

  it('are those the run will call, in the order it calls them: its first step, its tasks, its run monitor', () => {
    const pipeline = pipelinesOf(stage).get('greet')!;
    const monitor = stage.functions.find((f) => f.name.includes('-greet-Monitor'));

    // A run starts through the launcher, a backfill through the function of its own steps
    const run = functionsToWarm(pipeline, 'launcher');
    const backfill = functionsToWarm(pipeline, 'backfill');

    expect(run[0]).toBe(pipeline.launcher.arn);
    expect(invokedBy(pipeline.backfill!.definition)).toContain(backfill[0]);
    expect(backfill[0]).not.toBe(pipeline.launcher.arn);
    // Then the tasks, as the pipeline's state machine invokes them, and last the run monitor
    expect(new Set(invokedBy(pipeline.stateMachine.definition))).toEqual(new Set(run.slice(1, -1)));
    expect(run.at(-1)).toBe(monitor?.arn);
    expect(backfill.slice(1)).toEqual(run.slice(1));
  });

  it('are read from a build whose launchers were checked as the launchers check their environment', async () => {
    await expect(checkPipelines(stage)).resolves.toBeUndefined();
    const launcher = pipelinesOf(stage).get('greet')!.launcher;
    const broken: LocalStage = {
      ...stage,
      functions: stage.functions.map((f) => (f === launcher ? { ...f, environment: { ...f.environment, [LAUNCHER_ENV.pipeline]: '{"name":"greet","tasks":[]}' } } : f)),
    };

    // A configuration the launcher would refuse fails the check, naming the variable
    await expect(checkPipelines(broken)).rejects.toMatchObject({ name: 'EnvironmentError', message: expect.stringContaining(LAUNCHER_ENV.pipeline) });
  });
});
