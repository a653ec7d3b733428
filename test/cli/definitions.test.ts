import { fileURLToPath } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokenFixtures, cliEnv, json, sluice, spawnSluice, unresolvedFixtures } from './sluice';

/** Commands that read the definitions only (no synth, no services), and usage errors. */
describe('sluice list, validate and usage errors', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-cli-definitions-'));
    env = cliEnv(home);
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('lists every pipeline with its partitions, schedule and triggers', async () => {
    // When
    const result = await sluice(['list'], env);
    const listed = await sluice(['list', '--json'], env);

    // Then
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^PIPELINE\s+PARTITIONS\s+SCHEDULE\s+TRIGGERS\s+TASKS\s+DESCRIPTION$/m);
    expect(result.stdout).toMatch(/^drops\s+daily from 2024-01-01 \(UTC\)\s+s3:\/\/raw\/drops\/\*\.csv\s+count$/m);
    expect(result.stdout).toMatch(/^malformed-feed\s+static: eu, us\s+load$/m);
    expect(listed.code).toBe(0);
    const pipelines = json<{ name: string; triggers: { pattern: string }[]; tasks: string[] }[]>(listed);
    expect(pipelines.map((p) => p.name)).toStrictEqual(['drops', 'flaky-source', 'malformed-feed', 'orders', 'slow-export']);
    expect(pipelines.find((p) => p.name === 'drops')?.triggers.map((t) => t.pattern)).toStrictEqual(['s3://raw/drops/*.csv']);
    expect(pipelines.find((p) => p.name === 'orders')?.tasks).toStrictEqual(['extract', 'summarise']);
  });

  it('finishes quietly when the reader of its output stops early (sluice list | head -1)', async () => {
    // Given a reader that closes the pipe before the command writes
    const child = spawnSluice(['list'], env);
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

    // Then the command ends as it would have, without a stack trace
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect({ code, stderr }).toStrictEqual({ code: 0, stderr: '' });
  });

  it('lists the graph of pipelines that run after others', async () => {
    // When
    const upstreamFixtures = fileURLToPath(new URL('../local/fixtures/upstream', import.meta.url));
    const result = await sluice(['list', '--pipelines', upstreamFixtures], env);
    const listed = json<{ name: string; upstream: { pipeline: string }[]; downstream: string[] }[]>(await sluice(['list', '--json', '--pipelines', upstreamFixtures], env));

    // Then
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^report +daily from 2024-01-01 \(UTC\) +after sales \+ rates +build$/m);
    expect(result.stdout).toContain('Pipeline graph (upstream → downstream):\n  hits → daily-hits (time window)\n  sales → report (same key)\n  rates → report (same key)\n');
    expect(listed.find((p) => p.name === 'report')?.upstream.map((u) => u.pipeline)).toStrictEqual(['sales', 'rates']);
    expect(listed.find((p) => p.name === 'sales')?.downstream).toStrictEqual(['report']);
  });

  it('validates good pipelines with exit 0', async () => {
    // When
    const result = await sluice(['validate'], env);

    // Then
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('OK: 5 pipelines valid');
  });

  it('fails validate on a broken pipeline with exit 1 and every problem named', async () => {
    // When
    const result = await sluice(['validate', '--pipelines', brokenFixtures], env);
    const asJson = await sluice(['--json', 'validate', '--pipelines', brokenFixtures], env);

    // Then
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('3 problems');
    expect(result.stdout).toContain('pipeline "cyclic", task "first": dependency cycle: first → second → first');
    expect(result.stdout).toMatch(/pipeline "(report|sales)-loop": pipeline cycle: (report-loop → sales-loop → report-loop|sales-loop → report-loop → sales-loop) \(each runs after the one before it\)\. Fix: remove one of these `upstream` entries/);
    expect(result.stdout).toContain('pipeline "cyclic", task "second": handler file ./second.ts does not exist');
    expect(asJson.code).toBe(1);
    expect(json<{ ok: boolean; issues: { task: string }[] }>(asJson)).toMatchObject({ ok: false, issues: [{ task: 'first' }, { task: 'second' }, {}] });
  });

  it('fails validate on a bucket no stage configures and on a handler import that does not resolve, one line each', async () => {
    // When
    const result = await sluice(['validate', '--pipelines', unresolvedFixtures], env);

    // Then
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'pipeline "missing-package", task "parse": handler file ./parse.ts imports "sluice-test-no-such-package", which does not resolve. Fix: install it',
    );
    expect(result.stdout).toContain('pipeline "stray-bucket", task "archive": bucket "archive" is not configured in stage "local" (it has: raw, curated)');
    expect(result.stdout).toContain('bucket "archive" is not configured in stage "prod"');
    expect(result.stdout.trim().split('\n')).toHaveLength(1 + 1 + 4);
  });

  it.each([
    { problem: 'an unknown command', args: ['frobnicate'], message: "unknown command 'frobnicate'" },
    { problem: 'an unknown option', args: ['list', '--bogus'], message: "unknown option '--bogus'" },
    { problem: 'a missing argument', args: ['run'], message: "missing required argument 'pipeline'" },
    { problem: 'a bad --limit', args: ['runs', 'orders', '--limit', '0'], message: 'expected a whole number of at least 1' },
    { problem: 'a bad --port', args: ['dev', '--port', 'http'], message: '--port must be a whole number from 1 to 65534' },
  ])('fails with exit 2 on $problem', async ({ args, message }) => {
    // When
    const result = await sluice(args, env);

    // Then
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it.each(['list', 'validate'])('tells how to create a project when %s runs outside one, with exit 2', async (command) => {
    // Given a folder that is no project (no sluice.config.ts, no pipelines folder)
    const outside = await mkdtemp(join(tmpdir(), 'sluice-no-project-'));
    const { SLUICE_PIPELINES: _, ...noPipelines } = env;

    // When the command runs there
    const result = await sluice([command], noPipelines, outside);

    // Then it names what is missing and how to make one
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no sluice.config.ts in ${outside}`);
    expect(result.stderr).toContain('npx sluice init');
    await rm(outside, { recursive: true, force: true });
  });

  it('fails with exit 2 on a bad SLUICE_RETRY_INTERVAL_MS', async () => {
    // When
    const result = await sluice(['list'], { ...env, SLUICE_RETRY_INTERVAL_MS: 'soon' });

    // Then
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('SLUICE_RETRY_INTERVAL_MS must be a whole number of milliseconds, not "soon"');
  });
});
