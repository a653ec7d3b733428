import { request } from 'node:http';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../../local/runtime';
import { cliEnv, projectDir, sluice } from '../../cli/sluice';
import type { OverviewView, PartitionGridView, RunDetail } from '../../../local/ui/views';
import { type ConsoleProcess, launchBrowser, SCREENSHOTS_DIR, startConsoleProcess } from './browser';

const FIXTURES = fileURLToPath(new URL('./fixtures/pipelines', import.meta.url));

/** Status code and body of a request to the console, with the given headers. */
function call(port: number, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end(options.body);
  });
}

async function status(port: number, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<number> {
  return (await call(port, options)).status;
}

/**
 * The web console as a user meets it: `sluice ui` as a process on the UI fixtures (a diamond
 * `sales` pipeline whose 2024-01-02 fails on its first run, 100,000 hourly `readings`,
 * days × regions), runs made by `sluice run` next to it and from the page, one headless Chromium.
 */
describe('sluice ui', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let ui: ConsoleProcess;
  let browser: Browser;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS_DIR, `${name}.png`), fullPage: true });
  const open = async (hash: string) => {
    await page.goto(`${ui.url}${hash}`);
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS_DIR, { recursive: true });
    home = await mkdtemp(join(tmpdir(), 'sluice-ui-'));
    env = cliEnv(home, { SLUICE_PIPELINES: FIXTURES });
    [ui, browser] = await Promise.all([startConsoleProcess(env), launchBrowser()]);
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(15_000);
    // A failed run and a succeeded one, by the CLI in another process next to the console.
    const failed = await sluice(['run', 'sales', '--partition', '2024-01-02'], env);
    expect(failed.code, failed.stderr).toBe(1);
    const succeeded = await sluice(['run', 'sales', '--partition', '2024-01-01'], env);
    expect(succeeded.code, succeeded.stderr).toBe(0);
  });

  afterAll(async () => {
    await browser?.close();
    const code = await ui?.stop();
    await rm(home, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('refuses a request without the token, with a wrong one, or from another host name', async () => {
    expect(await status(ui.port, { path: '/api/overview' })).toBe(403);
    expect(await status(ui.port, { path: '/' })).toBe(403);
    expect(await status(ui.port, { path: '/api/overview?token=wrong' })).toBe(403);
    expect(await status(ui.port, { path: `/api/overview?token=${ui.token}`, headers: { host: `evil.example:${ui.port}` } })).toBe(403);
    // An action needs the token in its header: a form or link elsewhere cannot carry it there.
    const json = { 'content-type': 'application/json' };
    for (const [path, body] of [
      ['/api/pipelines/sales/runs', '{"partition":"2024-01-03"}'],
      ['/api/pipelines/sales/backfills', '{"from":"2024-01-20","to":"2024-01-21"}'],
      ['/api/pipelines/sales/schedule', '{"state":"PAUSED"}'],
    ] as const) {
      expect(await status(ui.port, { method: 'POST', path: `${path}?token=${ui.token}`, body, headers: json })).toBe(403);
    }
    // No CORS: a preflight is refused like any request without the token, and allows nothing.
    const preflight = await call(ui.port, { method: 'OPTIONS', path: '/api/pipelines/sales/runs', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(403);
    expect(await status(ui.port, { path: `/api/overview?token=${ui.token}` })).toBe(200);
  });

  it("answers a bad action with the CLI's one-line error and a 4xx", async () => {
    const headers = { 'content-type': 'application/json', 'x-sluice-token': ui.token };
    const post = (path: string, body: unknown) => call(ui.port, { method: 'POST', path, headers, body: JSON.stringify(body) });
    const badTask = await post('/api/pipelines/sales/runs/sales_nope/rerun', { selection: { kind: 'from-task', task: 'nope' } });
    expect(badTask.status).toBe(400);
    expect(JSON.parse(badTask.body).error).toMatch(/^error: [^\n]*sales_nope[^\n]*$/);
    const badRange = await post('/api/pipelines/sales/backfills', { from: '2024-02-30' });
    expect(badRange.status).toBe(400);
    expect(JSON.parse(badRange.body).error).toMatch(/^error: [^\n]*2024-02-30[^\n]*$/);
  });

  it('lists every pipeline on the overview with its last run and failures in 24 hours', async () => {
    await open('');
    const sales = page.locator('tr[data-pipeline="sales"]');
    await expect.poll(() => sales.locator('.last-run [data-status]').textContent()).toBe('SUCCEEDED');
    expect(await sales.locator('.failures').textContent()).toBe('1');
    expect(await sales.textContent()).toContain('0 6 * * *');
    expect(await page.locator('tr[data-pipeline]').count()).toBe(3);
    expect(await page.locator('.alerts').textContent()).toContain('FAILED sales partition 2024-01-02');
    await shot('overview');
  });

  it('shows a failed partition as failed in the grid, with its error', async () => {
    await open('#/pipelines/sales?from=2024-01-01&to=2024-01-31');
    const failed = page.locator('[data-key="2024-01-02"]');
    expect(await failed.getAttribute('data-status')).toBe('FAILED');
    expect(await page.locator('[data-key="2024-01-01"]').getAttribute('data-status')).toBe('SUCCEEDED');
    expect(await page.locator('[data-count="FAILED"] strong').textContent()).toBe('1');
    expect(await page.locator('.graph [data-task]').count()).toBe(4);
    await failed.click();
    await expect.poll(() => page.locator('.selection').textContent()).toContain('BadRowsError: 3 rows of 2024-01-02 have no amount');
    await shot('pipeline');
  });

  it('runs a selected partition with parameters and shows its status change without reloading', async () => {
    await open('#/pipelines/sales?from=2024-01-01&to=2024-01-31');
    await page.locator('[data-key="2024-01-03"]').click();
    // A bad value is refused before anything runs, with the line `sluice run --param` prints.
    await page.locator('[data-param="rows"]').fill('many');
    await page.locator('[data-action="run"]').click();
    await expect.poll(() => page.locator('.selection [role="status"]').textContent()).toBe('error: Pipeline "sales": parameter "rows" must be a number, not "many"');
    await page.locator('[data-param="rows"]').fill('7');
    await page.locator('[data-action="run"]').click();
    await expect.poll(() => page.locator('.selection [role="status"]').textContent()).toMatch(/^Started run \S+ \(run 1 of 2024-01-03\)$/);
    await expect.poll(() => page.locator('[data-key="2024-01-03"]').getAttribute('data-status'), { timeout: 15_000 }).toBe('SUCCEEDED');
    const runId = /^Started run (\S+)/.exec((await page.locator('.selection [role="status"]').textContent())!)![1]!;
    const run = JSON.parse((await call(ui.port, { path: `/api/pipelines/sales/runs/${runId}?token=${ui.token}` })).body) as { params: unknown; results: unknown };
    expect(run.params).toStrictEqual({ rows: 7 });
    expect(run.results).toContainEqual(expect.objectContaining({ task: 'clean', value: { rows: 7 } }));
  });

  it('shows each task attempt of a run on a timeline, retries and errors included, with their logs', async () => {
    await open('#/pipelines/sales');
    await page.locator('tr[data-run]', { hasText: '2024-01-02' }).locator('a').click();
    await page.locator('.gantt').waitFor();
    const rows = page.locator('.gantt-row');
    const attempts = await rows.evaluateAll((els) => els.map((e) => `${e.getAttribute('data-task')}#${e.getAttribute('data-attempt')} ${e.getAttribute('data-status')}`));
    expect(attempts.sort()).toStrictEqual(['clean#1 FAILED', 'clean#2 FAILED', 'enrich#1 SUCCEEDED', 'extract#1 SUCCEEDED']);
    expect(await page.locator('[data-run-error]').textContent()).toBe('BadRowsError: 3 rows of 2024-01-02 have no amount');
    expect((await logBlocks()).sort()).toStrictEqual(['clean #1', 'clean #2', 'enrich #1', 'extract #1']);
    expect(await page.locator('[data-logs="clean #2"]').textContent()).toContain('clean 2024-01-02');
    await shot('run');
  });

  /** The task attempts that printed on the run page: one block of logs per invocation. */
  const logBlocks = () => page.locator('[data-logs]').evaluateAll((els) => els.map((e) => e.getAttribute('data-logs')!));

  it('re-runs a failed run from failure: only the failed task (and what depends on it) runs again', async () => {
    await open('#/pipelines/sales');
    await page.locator('tr[data-run]', { hasText: '2024-01-02' }).locator('a').click();
    const failedRun = await page.locator('section.run').getAttribute('data-run');
    await page.locator('[data-action="rerun-failed"]').click();
    // The page opens the new run, which ends without reloading.
    await expect.poll(() => page.locator('section.run').getAttribute('data-run')).not.toBe(failedRun);
    await expect.poll(() => page.locator('h1 [data-status]').textContent(), { timeout: 30_000 }).toBe('SUCCEEDED');
    // Counted by what the tasks printed: extract and enrich were not invoked, their results reused.
    await expect.poll(async () => (await logBlocks()).sort()).toStrictEqual(['clean #1', 'load #1']);
    const reused = await page.locator('[data-reused]').textContent();
    expect(reused).toContain(`extract (from ${failedRun})`);
    expect(reused).toContain(`enrich (from ${failedRun})`);
    expect(await page.locator('[data-result]').evaluateAll((els) => els.map((e) => e.getAttribute('data-result')))).toStrictEqual(['clean', 'enrich', 'extract', 'load']);
    await shot('run-rerun');
  });

  it('back-fills a range selected in the grid, showing its progress until it ends', async () => {
    await open('#/pipelines/sales?from=2024-01-01&to=2024-01-31');
    await page.locator('[data-key="2024-01-10"]').click();
    await page.locator('[data-key="2024-01-12"]').click({ modifiers: ['Shift'] });
    await page.locator('[data-action="backfill"]').click();
    await page.locator('[data-field="only"]').selectOption('missing');
    await page.locator('[data-field="concurrency"]').fill('2');
    await page.locator('[data-action="start-backfill"]').click();
    const progress = page.locator('[data-dialog="backfill"] [data-backfill-progress]');
    // Planned first (its plan step's function may take a while to start), then running.
    await expect.poll(() => progress.getAttribute('data-status'), { timeout: 30_000 }).toBe('RUNNING');
    await expect.poll(() => progress.getAttribute('data-status'), { timeout: 60_000 }).toBe('SUCCEEDED');
    expect(await progress.locator('.counts').textContent()).toBe('3/3 partitions: 3 succeeded, 0 failed, 0 skipped');
    for (const key of ['2024-01-10', '2024-01-11', '2024-01-12']) {
      await expect.poll(() => page.locator(`[data-key="${key}"]`).getAttribute('data-status')).toBe('SUCCEEDED');
    }
    await shot('backfill');
    const backfillId = await progress.getAttribute('data-backfill-progress');
    await open('#/backfills');
    const row = page.locator(`tr[data-backfill="${backfillId}"]`);
    expect(await row.locator('[data-backfill-progress]').getAttribute('data-status')).toBe('SUCCEEDED');
    expect(await row.textContent()).toContain('2024-01-10..2024-01-12');
  });

  it('lists running backfills live and cancels one', async () => {
    const headers = { 'content-type': 'application/json', 'x-sluice-token': ui.token };
    const started = await call(ui.port, { method: 'POST', path: '/api/pipelines/sales/backfills', headers, body: JSON.stringify({ from: '2024-01-13', to: '2024-01-31' }) });
    expect(started.status, started.body).toBe(202);
    const { backfillId } = JSON.parse(started.body) as { backfillId: string };
    await open('#/pipelines/sales');
    await expect.poll(() => page.locator(`.running-backfills [data-backfill="${backfillId}"] [data-backfill-progress]`).getAttribute('data-status'), { timeout: 30_000 }).toBe('RUNNING');
    await open('#/backfills');
    const progress = page.locator(`tr[data-backfill="${backfillId}"] [data-backfill-progress]`);
    // Planned first (its plan step's function may take a while to start), then running.
    await expect.poll(() => progress.getAttribute('data-status'), { timeout: 30_000 }).toBe('RUNNING');
    await shot('backfills');
    await progress.locator('[data-action="cancel-backfill"]').click();
    // Runs in flight finish; none starts after them.
    await expect.poll(() => progress.getAttribute('data-status'), { timeout: 30_000 }).toBe('CANCELLED');
    expect(await progress.locator('.counts').textContent()).toMatch(/^19\/19 partitions: \d+ succeeded, 0 failed, 0 skipped, [1-9]\d* cancelled$/);
  });

  it('pauses and resumes a schedule, the state shown changing with it', async () => {
    await open('#/pipelines/sales');
    const control = page.locator('[data-schedule="sales"]');
    expect(await control.getAttribute('data-state')).toBe('ENABLED');
    await control.locator('[data-action="pause"]').click();
    await expect.poll(() => control.getAttribute('data-state')).toBe('PAUSED');
    await open('');
    expect(await page.locator('tr[data-pipeline="sales"] [data-schedule-state]').getAttribute('data-schedule-state')).toBe('PAUSED');
    await open('#/pipelines/sales');
    await control.locator('[data-action="resume"]').click();
    await expect.poll(() => control.getAttribute('data-state')).toBe('ENABLED');
  });

  it('shows 100,000 partitions, rendering only the rows in view', async () => {
    await open('#/pipelines/readings');
    const grid = page.locator('[data-grid="hourly"]');
    await grid.locator('[data-key]').first().waitFor();
    expect(await grid.getAttribute('data-partitions')).toBe('100000');
    expect(await page.locator('[data-count="MISSING"] strong').textContent()).toBe('100,000');
    // The latest day is in view at first; the first one is a scroll away.
    expect(await grid.locator('[data-key="2026-05-29T15"]').count()).toBe(1);
    expect(await grid.locator('.cell').count()).toBeLessThan(2_000);
    await shot('grid-100k');
    await grid.locator('.grid-viewport').evaluate((el) => el.scrollTo(0, 0));
    await expect.poll(() => grid.locator('[data-key="2015-01-01T00"]').count()).toBe(1);
  });

  it('lays out multi-partitions as days × regions, with a table per dimension', async () => {
    await open('#/pipelines/regions');
    await page.locator('[data-grid="multi"] [data-key]').first().waitFor();
    const columns = await page.locator('.grid-head .col').allTextContents();
    expect(columns).toStrictEqual(['eu', 'us']);
    expect(await page.locator('table[data-dimension]').evaluateAll((els) => els.map((e) => e.getAttribute('data-dimension')))).toStrictEqual(['date', 'region']);
    await shot('multi');
  });

  describe('on a deployed stage (--stage), through the AWS SDK against the local endpoints', () => {
    let runtime: LocalRuntime;
    let staged: ConsoleProcess;
    const get = async <T,>(path: string): Promise<T> => {
      const answer = await call(staged.port, { path: `${path}${path.includes('?') ? '&' : '?'}token=${staged.token}` });
      expect(answer.status, answer.body).toBe(200);
      return JSON.parse(answer.body) as T;
    };

    beforeAll(async () => {
      // The runtime serves what a deployed stage's operations call; the console finds it only
      // through the SDK's own endpoint variables and the parameters the stage's stacks publish.
      runtime = await LocalRuntime.start({ projectDir, pipelinesDir: FIXTURES, home });
      const stageEnv = { ...env, ...runtime.deployedStageEnvironment, AWS_ACCESS_KEY_ID: 'AKIAOPERATOR', AWS_SECRET_ACCESS_KEY: 'operator', AWS_EC2_METADATA_DISABLED: 'true' };
      staged = await startConsoleProcess(stageEnv, ['--stage', 'local']);
    });
    afterAll(async () => {
      await staged?.stop();
      await runtime?.stop();
    });

    it("shows the stage's pipelines, partitions, runs with their logs, and pauses and resumes a schedule", async () => {
      const overview = await get<OverviewView>('/api/overview');
      expect(overview.pipelines.map((p) => p.name).sort()).toStrictEqual(['readings', 'regions', 'sales']);
      const sales = () => get<OverviewView>('/api/overview').then((o) => o.pipelines.find((p) => p.name === 'sales')!);
      expect((await sales()).failures24h).toBe(1);
      const grid = await get<PartitionGridView>('/api/pipelines/sales/partitions?from=2024-01-01&to=2024-01-04');
      expect([...grid.statuses]).toStrictEqual(['S', 'S', 'S', 'M']);
      const run = await get<RunDetail>('/api/pipelines/sales/runs/sales_2024-01-02_r1');
      expect(run).toMatchObject({ status: 'FAILED', error: 'BadRowsError' });
      expect(run.consoleUrl).toMatch(/^https:\/\/us-east-1\.console\.aws\.amazon\.com\/states\//);
      expect(run.logs.map((l) => l.message)).toContain('clean 2024-01-02');
      // Its timeline from the execution's history, and the results it recorded in the table.
      expect(run.attempts.map((a) => `${a.task}#${a.attempt} ${a.status}`).sort()).toStrictEqual(['clean#1 FAILED', 'clean#2 FAILED', 'enrich#1 SUCCEEDED', 'extract#1 SUCCEEDED']);
      expect(run.results.map((r) => r.task).sort()).toStrictEqual(['enrich', 'extract']);
      expect((await call(staged.port, { path: `/api/pipelines/sales/runs/sales_2099-01-01_r1?token=${staged.token}` })).status).toBe(404);

      const headers = { 'content-type': 'application/json', 'x-sluice-token': staged.token };
      const pause = await call(staged.port, { method: 'POST', path: '/api/pipelines/sales/schedule', headers, body: '{"state":"PAUSED"}' });
      expect(pause.status, pause.body).toBe(200);
      expect((await sales()).schedule?.state).toBe('PAUSED');
      await call(staged.port, { method: 'POST', path: '/api/pipelines/sales/schedule', headers, body: '{"state":"ENABLED"}' });
      expect((await sales()).schedule?.state).toBe('ENABLED');
      // The launcher (invoked through Lambda's API) refuses a bad value with the CLI's line.
      const bad = await call(staged.port, { method: 'POST', path: '/api/pipelines/sales/runs', headers, body: '{"partition":"2024-01-05","params":{"rows":"many"}}' });
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body).error).toBe('error: Pipeline "sales": parameter "rows" must be a number, not "many"');
      await page.goto(`${staged.url}#/pipelines/sales?from=2024-01-01&to=2024-01-31`);
      expect(await page.locator('[data-key="2024-01-02"]').getAttribute('data-status')).toBe('SUCCEEDED');
      await shot('pipeline-stage');
    });
  });
});
