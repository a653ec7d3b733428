import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, fixtures, projectDir, repoDir, sluice, spawnSluice } from './sluice';

/**
 * Live reload of `sluice dev`: an edited handler is used by the next triggered run, runs started
 * before the edit finish on their build, and no upload is lost or run twice across the reload.
 */
describe('sluice dev live reload', () => {
  // Inside the project, so that the handler resolves the project's packages as a user's would.
  const scratch = join(projectDir, '.sluice');
  mkdirSync(scratch, { recursive: true });
  const pipelines = mkdtempSync(join(scratch, 'dev-reload-'));
  const home = mkdtempSync(join(tmpdir(), 'sluice-dev-reload-'));
  const handler = join(pipelines, 'drops', 'count.ts');
  const env = cliEnv(home, { SLUICE_PIPELINES: pipelines });
  let stdout = '';
  let stop: () => Promise<unknown>;
  let s3: S3Client;
  let bucket: string;

  /** The fixture's handler, printing which version of it runs. */
  function writeHandler(version: number): void {
    const source = readFileSync(join(fixtures, 'drops', 'count.ts'), 'utf8').replace('export const handler = async (event: TaskEvent) => {', `export const handler = async (event: TaskEvent) => {\n  console.log('handler version ${version}');`);
    writeFileSync(handler, source.replaceAll("'../../../../../lib'", JSON.stringify(join(repoDir, 'lib'))));
  }

  async function waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(stdout);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`sluice dev did not print ${pattern}:\n${stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const upload = (day: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: `drops/${day}/a.csv`, Body: 'sku,qty\na,1\n' }));
  const started = (day: string) => [...stdout.matchAll(new RegExp(` run {6}drops {2}${day} {2}run (\\S+) started \\(s3\\) on build (\\w+)`, 'g'))];

  beforeAll(async () => {
    for (const name of ['drops', 'orders']) {
      cpSync(join(fixtures, name), join(pipelines, name), { recursive: true });
      for (const file of ['pipeline.ts', 'extract.ts', 'summarise.ts']) {
        const path = join(pipelines, name, file);
        if (existsSync(path)) writeFileSync(path, readFileSync(path, 'utf8').replaceAll("'../../../../../lib'", JSON.stringify(join(repoDir, 'lib'))));
      }
    }
    writeHandler(1);
    const child = spawnSluice(['dev', '--no-ui'], env);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    stop = async () => {
      child.kill('SIGINT');
      return exited;
    };
    await waitFor(/Ready\./, 120_000);
    const accessKey = (await waitFor(/access key (\S+),/))[1]!;
    s3 = new S3Client({
      endpoint: (await waitFor(/^S3\s+(http:\/\/\S+)/m))[1],
      region: 'us-east-1',
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      credentials: { accessKeyId: accessKey, secretAccessKey: accessKey },
    });
    bucket = (await waitFor(/^(\S+)\s+raw$/m))[1]!;
  }, 180_000);

  afterAll(async () => {
    s3?.destroy();
    await stop?.();
    rmSync(pipelines, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  it('runs the edited handler on the next upload, and every upload once across the reload', async () => {
    // Given a run on the first build
    await upload('2024-03-01');
    await waitFor(/ run {6}drops {2}2024-03-01 {2}run \S+ SUCCEEDED/);
    const [[, firstRun, firstBuild]] = started('2024-03-01') as [RegExpExecArray];

    // When the handler is edited, with an upload while the new build is made
    writeHandler(2);
    await upload('2024-03-02');
    const [, nextBuild] = await waitFor(/reload {3}build (\w+) ready in/);
    await upload('2024-03-03');
    await waitFor(/ run {6}drops {2}2024-03-03 {2}run \S+ SUCCEEDED/);
    await waitFor(/ run {6}drops {2}2024-03-02 {2}run \S+ SUCCEEDED/);

    // Then the run after the reload used the new build and the edited code
    expect(nextBuild).not.toBe(firstBuild);
    const [[, lastRun, lastBuild]] = started('2024-03-03') as [RegExpExecArray];
    expect(lastBuild).toBe(nextBuild);
    expect((await sluice(['logs', lastRun!], env)).stdout).toContain('handler version 2');
    expect((await sluice(['logs', firstRun!], env)).stdout).toContain('handler version 1');
    // And the upload made during the reload ran once, on one of the two builds
    expect(started('2024-03-02')).toHaveLength(1);
    expect(started('2024-03-03')).toHaveLength(1);
    // And only the edited pipeline was bundled again; the other one's build was reused, and runs
    const log = readFileSync(join(home, 'functions.log'), 'utf8');
    const bundled = (pipeline: string) => [...log.matchAll(new RegExp(`Bundling asset local/Pipeline-${pipeline}/(?:\\w+/)?Run/`, 'g'))].length;
    expect(bundled('drops')).toBe(2);
    expect(bundled('orders')).toBe(2);
    const orders = await sluice(['run', 'orders', '--partition', '2024-03-01'], env);
    expect(orders.code).toBe(0);
    expect(orders.stdout).toContain(`build ${nextBuild})`);
  }, 180_000);
});
