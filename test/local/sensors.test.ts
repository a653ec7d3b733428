import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime';
import { cliEnv, sluice } from '../cli/sluice';

const projectDir = fileURLToPath(new URL('../../examples', import.meta.url));
const pipelinesDir = fileURLToPath(new URL('./fixtures/sensors', import.meta.url));

/** Sensors through the local runtime: the compiled Wait-state loop, run by the interpreter with the real bundles. */
describe('sensors through the local runtime', () => {
  let home: string;
  let runtime: LocalRuntime | undefined;

  const checksOf = (execution: { attempts: readonly { state: string; startDate: string }[] }) =>
    execution.attempts.filter((a) => a.state === 'ready').map((a) => Date.parse(a.startDate));

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-sensors-'));
    runtime = await LocalRuntime.start({ projectDir, pipelinesDir, home });
  }, 180_000);
  afterAll(async () => {
    await runtime?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('succeeds on the third check, waiting the interval between checks, then starts its dependants', async () => {
    // When
    const { execution } = await runtime!.run('landing', 'default');

    // Then
    expect(execution?.status).toBe('SUCCEEDED');
    const checks = checksOf(execution!);
    expect(checks).toHaveLength(3);
    for (let i = 1; i < checks.length; i++) expect(checks[i]! - checks[i - 1]!).toBeGreaterThanOrEqual(1000);
    expect(JSON.parse(execution!.output!).results.load).toStrictEqual({ value: { sawReady: true } });
  }, 60_000);

  it('fails with SensorTimeoutError once its timeout has passed, and alerts', async () => {
    // When
    const { execution } = await runtime!.run('never-lands', 'default');
    await runtime!.settle();

    // Then
    expect(execution).toMatchObject({ status: 'FAILED', error: 'SensorTimeoutError' });
    expect(execution?.cause).toBe('Sensor "ready": the condition did not hold within 2 s (3 checks, every 1 s)');
    expect(checksOf(execution!)).toHaveLength(3);
    expect(execution!.attempts.map((a) => a.state)).not.toContain('load');
    expect((await runtime!.partitions('never-lands', { now: new Date() }))[0]).toMatchObject({ status: 'FAILED', record: { error: 'SensorTimeoutError' } });
    expect(await readFile(join(home, 'alerts.jsonl'), 'utf8')).toContain('SensorTimeoutError');
  }, 60_000);

  it('shortens every wait to SLUICE_WAIT_INTERVAL_MS when it is set', async () => {
    // Given the stage above, stopped (its synthesized assembly stays cached in the home)
    await runtime!.stop();
    runtime = undefined;

    // When `sluice run` runs a sensor that checks hourly for two hours, with waits of 10 ms
    const result = await sluice(['run', 'slow-poll'], cliEnv(home, { SLUICE_PIPELINES: pipelinesDir, SLUICE_WAIT_INTERVAL_MS: '10' }));

    // Then it made its three checks and gave up at once
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('SensorTimeoutError');
    expect(result.stdout).toContain('the condition did not hold within 7200 s (3 checks, every 3600 s)');
  }, 120_000);
});
