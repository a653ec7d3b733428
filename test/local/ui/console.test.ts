import { request } from 'node:http';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, sluice } from '../../cli/sluice';
import { type ConsoleProcess, launchBrowser, SCREENSHOTS_DIR, startConsoleProcess } from './browser';

const FIXTURES = fileURLToPath(new URL('./fixtures/pipelines', import.meta.url));

/** Status code of a request to the console, with the given headers. */
function status(port: number, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end(options.body);
  });
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
    const action = { method: 'POST', path: `/api/pipelines/sales/runs?token=${ui.token}`, body: '{"partition":"2024-01-03"}' };
    expect(await status(ui.port, { ...action, headers: { 'content-type': 'application/json' } })).toBe(403);
    expect(await status(ui.port, { path: `/api/overview?token=${ui.token}` })).toBe(200);
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

  it('runs a selected partition and shows its status change without reloading', async () => {
    await open('#/pipelines/sales?from=2024-01-01&to=2024-01-31');
    await page.locator('[data-key="2024-01-03"]').click();
    await page.locator('[data-action="run"]').click();
    expect(await page.locator('.selection [role="status"]').textContent()).toMatch(/^Started run \S+ \(run 1 of 2024-01-03\)$/);
    await expect.poll(() => page.locator('[data-key="2024-01-03"]').getAttribute('data-status'), { timeout: 15_000 }).toBe('SUCCEEDED');
  });

  it('shows each task attempt of a run on a timeline, retries and errors included', async () => {
    await open('#/pipelines/sales');
    await page.locator('tr[data-run]', { hasText: '2024-01-02' }).locator('a').click();
    await page.locator('.gantt').waitFor();
    const rows = page.locator('.gantt-row');
    const attempts = await rows.evaluateAll((els) => els.map((e) => `${e.getAttribute('data-task')}#${e.getAttribute('data-attempt')} ${e.getAttribute('data-status')}`));
    expect(attempts.sort()).toStrictEqual(['clean#1 FAILED', 'clean#2 FAILED', 'enrich#1 SUCCEEDED', 'extract#1 SUCCEEDED']);
    expect(await page.locator('[data-run-error]').textContent()).toBe('BadRowsError: 3 rows of 2024-01-02 have no amount');
    await shot('run');
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
});
